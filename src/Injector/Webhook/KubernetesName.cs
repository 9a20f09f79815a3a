using System.Text.RegularExpressions;

namespace TokenInjector.Webhook;

/// <summary>What the name of a Secret or a webhook configuration may be: a DNS subdomain name, as the API server checks it.</summary>
internal static partial class KubernetesName
{
    public const string Expected = "a Kubernetes object name (lower-case letters, digits, '-' and '.', at most 253 characters)";

    public static bool IsValid(string name) => name.Length <= 253 && Subdomain().IsMatch(name);

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex Subdomain();
}
