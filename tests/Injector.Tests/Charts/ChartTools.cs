namespace TokenInjector.Tests.Charts;

/// <summary>
/// The real tools the chart tests run, found through the variables <c>scripts/lib/chart-tools.sh</c> exports (from
/// <c>scripts/test</c>). A missing tool fails the test that needs it, with the way to install it: never a skip.
/// </summary>
internal static class ChartTools
{
    /// <summary>The Helm major versions the chart is tested with.</summary>
    public static readonly int[] HelmVersions = [3, 4];

    public static string Helm(int major) => Required(major switch
    {
        3 => "TOKEN_INJECTOR_HELM3",
        4 => "TOKEN_INJECTOR_HELM4",
        _ => throw new ArgumentOutOfRangeException(nameof(major), major, "Helm 3 or 4"),
    });

    public static string Kubectl => Required("TOKEN_INJECTOR_KUBECTL");

    public static string Prometheus => Required("TOKEN_INJECTOR_PROMETHEUS");

    public static string Promtool => Required("TOKEN_INJECTOR_PROMTOOL");

    /// <summary>The node_modules directory with the Kubernetes and CRD models (see Validation/package.json).</summary>
    public static string Models => Required("TOKEN_INJECTOR_MODELS");

    private static string Required(string variable)
    {
        var path = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(path) || !(File.Exists(path) || Directory.Exists(path)))
        {
            var problem = string.IsNullOrEmpty(path) ? "is not set" : $"names {path}, which does not exist";
            throw new InvalidOperationException(
                $"{variable} {problem}: run the tests with scripts/test, which installs Helm, kubectl, Prometheus and the models " +
                "(scripts/lib/chart-tools.sh), or source that file and call install_chart_tools before dotnet test");
        }

        return path;
    }
}
