using System.Diagnostics;
using System.Globalization;
using System.Text;
using TokenInjector.Commands;
using TokenInjector.Configuration;
using TokenInjector.DevStack.Stack;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Random flags, environment variables and config files for every role, and random route and resolve specs: the parser
/// returns settings or reports configuration errors (one line each), never anything else; a sample of the rejected
/// configurations is run through the real executable, which must exit 2 naming the errors.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ConfigurationFuzzTests
{
    private const int Cases = 10_000;
    private const int ProcessSample = 8;

    private static readonly string[] Values =
    [
        "https://svc-abc123-uc.a.run.app", "8080=https://svc.a.run.app", "8081=https://svc.a.run.app:8443=custom-aud",
        "svc.a.run.app:443:10.0.0.5", "svc.a.run.app:443:[::1]", "127.0.0.1", "::1", "0.0.0.0:9464", "[::1]:9464", "/tmp/ti.sock",
        "./ti.sock", "0660", "0600", "30s", "250ms", "10m", "1h", "true", "false", "64", "0", "text", "json", "debug",
        "metadata", "adc", "authorization", "x-serverless-authorization", "/etc/hostname", "IfNotPresent", "48Mi", "10m", "0.5",
        "1e3", "ghcr.io/token-injector/injector:1.0", "apps", "/var/run/token-injector-tokens",
    ];

    // Lone surrogates in the garbage become U+FFFD on disk instead of failing the write.
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private static readonly CommandOptions[] Roles = [SidecarSettings.Command, WebhookSettings.Command, TokenCommand.Command];

    [Fact]
    public async Task RandomFlagsEnvironmentAndFiles_OnlySettingsOrConfigurationErrors_AndTheExecutableExitsTwo()
    {
        const int Seed = 20261123;
        var started = Stopwatch.GetTimestamp();
        var fuzz = new FuzzInputs(Seed);
        using var directory = new TempDirectory();
        var accepted = 0;
        var rejected = 0;
        var defects = new List<string>();
        var samples = new List<(string[] Args, Dictionary<string, string> Environment)>();

        for (var i = 0; i < Cases; i++)
        {
            var role = fuzz.Pick(Roles);
            var file = directory.File("config-" + (i % 2 == 0 ? "a.yaml" : "b.json"));
            var configText = ConfigFile(fuzz, role);
            await File.WriteAllTextAsync(file, configText, Utf8);
            var args = Arguments(fuzz, role, file);
            var environment = EnvironmentVariables(fuzz, role, file);
            IReadOnlyList<string> errors;
            try
            {
                var parsed = role.Parse(args, name => environment.GetValueOrDefault(name));
                if (Settle(role, parsed))
                {
                    accepted++;
                    continue;
                }

                errors = parsed.Errors;
            }
            catch (ConfigurationErrorException ex)
            {
                errors = ex.Errors;
            }
#pragma warning disable CA1031 // Anything but a configuration error is exactly the defect this scenario looks for.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                defects.Add($"case {i} ({role.Command}): {ex.GetType().Name}: {ex.Message} {WhereThrown(ex)}");
                continue;
            }

            rejected++;
            if (errors.Count == 0)
            {
                defects.Add($"case {i} ({role.Command}): rejected with no error");
            }
            else if (errors.FirstOrDefault(e => e.Length == 0 || e.Contains('\n', StringComparison.Ordinal) || e.Contains('\r', StringComparison.Ordinal)) is { } broken)
            {
                defects.Add($"case {i} ({role.Command}): an error that is not one line: {broken.ReplaceLineEndings("<NL>")}");
            }
            else if (role == SidecarSettings.Command && samples.Count < ProcessSample && i % 7 == 0 && !args.Contains("--help") && !args.Contains("-h"))
            {
                // Kept in a file of its own: the shared one is rewritten by the next case.
                var kept = directory.File($"sample-{samples.Count}.yaml");
                await File.WriteAllTextAsync(kept, configText, Utf8);
                samples.Add((
                    args.Select(a => a == file ? kept : a).ToArray(),
                    environment.ToDictionary(e => e.Key, e => e.Value == file ? kept : e.Value)));
            }
        }

        var specDefects = FuzzSpecs(new FuzzInputs(Seed + 1));
        var processFailures = new List<string>();
        foreach (var (args, environment) in samples)
        {
            using var process = SidecarProcess.Launch(new SidecarLaunch(TestPrograms.Injector, args) { Environment = environment });
            await process.WaitForExitAsync();
            var lines = process.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (process.ExitCode != 2 || lines.Length == 0 || !lines.All(l => l.StartsWith("injector sidecar: error: --", StringComparison.Ordinal) || l.StartsWith("injector sidecar: error: unknown option", StringComparison.Ordinal) || l.StartsWith("injector sidecar: error: unexpected argument", StringComparison.Ordinal)))
            {
                processFailures.Add($"exit {process.ExitCode}, first line '{lines.FirstOrDefault()}'");
            }
        }

        var passed = defects.Count == 0 && specDefects.Count == 0 && processFailures.Count == 0 && samples.Count == ProcessSample;
        await ReliabilityReport.RecordAsync(new ScenarioResult(
            ReliabilitySection.Fuzzing,
            "config flags, env, files; route and resolve specs",
            [
                $"seed: {Seed}",
                $"configurations: {Cases} ({accepted} accepted, {rejected} rejected)",
                $"route and resolve specs: {2 * Cases}",
                $"other exceptions: {defects.Count + specDefects.Count}",
                $"executable runs: {samples.Count}, not exit 2 with error lines: {processFailures.Count}",
                $"run time: {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s",
            ],
            passed)
        {
            Note = string.Join("; ", defects.Concat(specDefects).Concat(processFailures).Take(3)),
        });

        Assert.True(defects.Count == 0, string.Join("\n", defects.Take(5)));
        Assert.Empty(specDefects);
        Assert.Equal(ProcessSample, samples.Count);
        Assert.Empty(processFailures);
    }

    // True when the role's settings were built; false when the parse itself reported errors the settings would repeat.
    private static bool Settle(CommandOptions role, ParsedOptions parsed)
    {
        if (role == SidecarSettings.Command)
        {
            _ = SidecarSettings.From(parsed, _ => null);
            return true;
        }

        if (role == WebhookSettings.Command)
        {
            _ = WebhookSettings.From(parsed, _ => null);
            return true;
        }

        // The token command validates as TokenCommand.RunAsync does.
        _ = parsed.String(TokenCommand.Audience);
        _ = parsed.Duration(TokenCommand.Timeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        return parsed.Errors.Count == 0;
    }

    private static string[] Arguments(FuzzInputs fuzz, CommandOptions role, string file)
    {
        var args = new List<string>();
        var count = fuzz.Next(7);
        for (var i = 0; i < count; i++)
        {
            var option = fuzz.Pick(role.Options);
            switch (fuzz.Next(10))
            {
                case 0:
                    args.Add(fuzz.Text(["--" + option.Name, "--help", "-h", "--", "---x", "--route=", "--=", "--config"]));
                    break;
                case 1:
                    args.Add(fuzz.Garbage(24));
                    break;
                case 2 when option == CommonOptions.Config:
                    args.AddRange([option.Flag, file]);
                    break;
                case 3:
                    args.Add(option.Flag + "=" + Value(fuzz, option));
                    break;
                default:
                    args.AddRange([option.Flag, Value(fuzz, option)]);
                    break;
            }
        }

        if (role.Options.Contains(CommonOptions.Config) && fuzz.Chance(0.5))
        {
            args.AddRange(["--config", file]);
        }

        return [.. args];
    }

    private static Dictionary<string, string> EnvironmentVariables(FuzzInputs fuzz, CommandOptions role, string file)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var count = fuzz.Next(4);
        for (var i = 0; i < count; i++)
        {
            var option = fuzz.Pick(role.Options);
            environment[option.EnvironmentVariable] = option == CommonOptions.Config && fuzz.Chance(0.5)
                ? file
                : string.Join(",", Enumerable.Range(0, 1 + fuzz.Next(3)).Select(_ => Value(fuzz, option)));
        }

        return environment;
    }

    private static string ConfigFile(FuzzInputs fuzz, CommandOptions role)
    {
        if (fuzz.Chance(0.15))
        {
            return fuzz.Garbage(256);
        }

        var json = fuzz.Chance(0.4);
        var text = new StringBuilder(json ? "{" : string.Empty);
        var count = fuzz.Next(5);
        for (var i = 0; i < count; i++)
        {
            var option = fuzz.Pick(role.Options);
            var key = fuzz.Chance(0.85) ? option.Name : fuzz.Text([option.Name, "unknown", "a: b", "- x"]);
            var value = fuzz.Next(5) switch
            {
                0 => json ? $"[\"{Value(fuzz, option)}\", \"{Value(fuzz, option)}\"]" : $"\n  - '{Value(fuzz, option)}'\n  - {Value(fuzz, option)}",
                1 => json ? "{\"nested\": [1, {\"deeper\": null}]}" : "\n  nested: {a: [1, 2]}",
                2 => json ? "null" : "~",
                _ => json ? $"\"{Value(fuzz, option)}\"" : $"'{Value(fuzz, option)}'",
            };
            text.Append(json ? (i > 0 ? ", " : string.Empty) + $"\"{key}\": {value}" : $"{key}: {value}\n");
        }

        if (json)
        {
            text.Append('}');
        }

        return fuzz.Chance(0.3) ? fuzz.Mutate(text.ToString()) : text.ToString();
    }

    private static string Value(FuzzInputs fuzz, OptionSpec option) =>
        fuzz.Chance(0.3) && option.Default is not null ? fuzz.Mutate(option.Default) : fuzz.Text(Values, 48);

    private static List<string> FuzzSpecs(FuzzInputs fuzz)
    {
        var defects = new List<string>();
        string[] routes = ["8080=https://svc-abc123-uc.a.run.app", "1=https://h:1=a", "65535=https://[::1]:443", "8080=https://xn--bcher-kva.example=https://aud"];
        string[] resolves = ["svc.a.run.app:443:10.0.0.5", "h:1:[::1]", "svc:65535:127.0.0.1"];
        for (var i = 0; i < Cases; i++)
        {
            var routeText = fuzz.Text(routes, 96);
            var resolveText = fuzz.Text(resolves, 64);
            try
            {
                if (RouteSpec.TryParse(routeText, out var route, out _)
                    && (route!.ListenPort is < 1 or > 65535 || route.UpstreamPort is < 1 or > 65535 || AudienceRules.Problem(route.Audience) is not null || route.Upstream.Scheme != Uri.UriSchemeHttps))
                {
                    defects.Add($"route case {i}: accepted an inconsistent route (port {route.ListenPort.ToString(CultureInfo.InvariantCulture)})");
                }

                if (ResolveSpec.TryParse(resolveText, out var resolve) && resolve!.Port is < 1 or > 65535)
                {
                    defects.Add($"resolve case {i}: accepted port {resolve.Port.ToString(CultureInfo.InvariantCulture)}");
                }
            }
#pragma warning disable CA1031 // Anything thrown is the defect this scenario looks for.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                defects.Add($"spec case {i}: {ex.GetType().Name}: {ex.Message} {WhereThrown(ex)}");
            }
        }

        return defects;
    }

    // Where it was thrown and the frame of the injector's own code it came through, so the report points at the defect.
    private static string WhereThrown(Exception ex)
    {
        var frames = ex.StackTrace?.Split('\n').Select(frame => frame.Trim()).ToList() ?? [];
        var own = frames.FirstOrDefault(frame => frame.Contains(" TokenInjector.", StringComparison.Ordinal) && !frame.Contains(".Tests.", StringComparison.Ordinal));
        return string.Join(" via ", new[] { frames.FirstOrDefault(), own }.Where(frame => frame is not null).Distinct());
    }
}
