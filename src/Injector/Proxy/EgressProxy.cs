using Microsoft.AspNetCore.Http.Features;

namespace TokenInjector.Proxy;

/// <summary>
/// The egress listener's requests, whichever way they came (direct, forward-proxy, inside a <see cref="ConnectTunnel"/>):
/// <see cref="EgressPolicy"/> picks the upstream host and audience from what the request names, and
/// <see cref="TokenForwarder"/> forwards it exactly as a route's request, or answers the refusal.
/// </summary>
internal sealed class EgressProxy(EgressPolicy policy, TokenForwarder forwarder, ILogger logger)
{
    public Task HandleAsync(HttpContext context)
    {
        var request = context.Features.Get<IHttpRequestFeature>()!;
        var decision = policy.Decide(new EgressRequest(
            EgressEntry.Request, request.Method, request.RawTarget, context.Request.Headers.Host.ToString(), context.Features.Get<EgressTunnel>()?.Host));
        if (decision.Target is { } target)
        {
            return forwarder.ForwardAsync(context, target);
        }

        logger.EgressRefused(decision.Refusal!.StatusCode, decision.Refusal.Message);
        return forwarder.RefuseAsync(context, ForwardingTarget.EgressListener, decision.Refusal);
    }
}
