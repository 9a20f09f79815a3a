using k8s;
using k8s.Models;
using TokenInjector.Configuration;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The audience rule in the webhook's annotations: every printable ASCII punctuation character reaches the injected
/// sidecar's arguments exactly (and they parse back to exactly that audience), or the pod is denied naming it. The
/// comma is the annotations' list separator, which is why the rule refuses it in an audience everywhere else.
/// </summary>
public sealed class AnnotationAudienceTests
{
    [Fact]
    public void Audiences_EveryPunctuationCharacter_ReachesTheSidecarExactly()
    {
        foreach (var (character, audience) in PunctuationAudiences.All)
        {
            var configured = SidecarAudiences(new() { [InjectionAnnotations.Audiences] = audience });

            Assert.Equal(character == PunctuationAudiences.Refused ? Parts(audience) : [audience], configured);
        }
    }

    [Fact]
    public void RouteAudience_EveryPunctuationCharacter_ReachesTheSidecarExactly_ACommaSplitsTheListIntoABadRoute()
    {
        foreach (var (character, audience) in PunctuationAudiences.All)
        {
            var annotations = new Dictionary<string, string> { [InjectionAnnotations.Routes] = $"8080=https://svc.a.run.app={audience}" };
            if (character == PunctuationAudiences.Refused)
            {
                var decision = PodAdmission.Decide(InjectionAnnotationsTests.Pod(annotations), PodMutatorGoldenTests.Defaults);
                Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
                Assert.Contains(InjectionAnnotations.Routes, decision.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal([audience], SidecarAudiences(annotations));
            }
        }
    }

    [Fact]
    public void AudienceWithASpace_IsDeniedNamingTheCharacter()
    {
        var decision = PodAdmission.Decide(
            InjectionAnnotationsTests.Pod(new() { [InjectionAnnotations.Audiences] = "https://a.run.app/x y" }), PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        Assert.Contains("' ' (a space) at position 20", decision.Message, StringComparison.Ordinal);
    }

    // What the annotations' comma-separated list makes of a value: its non-empty parts.
    private static List<string> Parts(string value) => [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries)];

    // The audiences the injected sidecar is configured with, as it parses its own arguments.
    private static IReadOnlyList<string> SidecarAudiences(Dictionary<string, string> annotations)
    {
        var decision = PodAdmission.Decide(InjectionAnnotationsTests.Pod(annotations), PodMutatorGoldenTests.Defaults);
        Assert.True(decision.Outcome == AdmissionOutcome.Mutated, decision.Message);
        var pod = KubernetesJson.Deserialize<V1Pod>(InjectionAnnotationsTests.Pod(annotations).GetRawText());
        var errors = new List<string>();
        var request = InjectionAnnotations.Parse(pod, errors)!;
        var args = PodMutator.SidecarArgs(request, PodMutatorGoldenTests.Defaults, fsGroup: null);
        Assert.Equal("sidecar", args[0]);
        return SidecarSettings.From(SidecarSettings.Command.Parse(args[1..], _ => null), _ => null).Audiences;
    }
}
