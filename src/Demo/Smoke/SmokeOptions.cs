namespace TokenInjector.Demo.Smoke;

/// <summary>
/// What <c>demo smoke</c> checks: an <c>injector</c> executable (<c>injector-webhook</c> beside it), the user-mode
/// emulator that runs it when it is built for another machine (null: none), and the pod of the AdmissionReview it
/// sends the webhook.
/// </summary>
internal sealed record SmokeOptions(string Injector, string? Emulator, string Pod)
{
    public string Webhook => Path.Combine(Path.GetDirectoryName(Injector)!, "injector-webhook");
}
