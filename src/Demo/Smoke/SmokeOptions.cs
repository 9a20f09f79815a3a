namespace TokenInjector.Demo.Smoke;

/// <summary>What <c>demo smoke</c> checks: an <c>injector</c> executable, and the pod of the AdmissionReview it sends the webhook.</summary>
internal sealed record SmokeOptions(string Injector, string Pod);
