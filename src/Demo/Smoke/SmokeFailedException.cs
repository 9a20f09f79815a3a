namespace TokenInjector.Demo.Smoke;

/// <summary>A check of <c>demo smoke</c> did not hold; the message says which.</summary>
internal sealed class SmokeFailedException(string message) : Exception(message);
