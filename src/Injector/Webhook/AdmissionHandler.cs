using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TokenInjector.Plumbing;

namespace TokenInjector.Webhook;

/// <summary>
/// <c>POST /mutate</c> and <c>POST /validate</c>: reads an AdmissionReview, lets <see cref="PodAdmission"/> (pods) or
/// <see cref="WorkloadAdmission"/> (workloads' pod templates) decide (pure functions), adds the Workload Identity
/// warning and writes the AdmissionReview back. A body that is not a usable AdmissionReview gets a 400 with the
/// reason; nothing a client sends can take the server down.
/// </summary>
internal sealed class AdmissionHandler(AdmissionOptions options, WorkloadIdentityCheck identityCheck, WebhookMetrics metrics, ILogger<AdmissionHandler> logger)
{
    /// <summary>The API server sends objects of at most about 1.5 MiB; anything past this is not from it.</summary>
    public const int MaxBodyBytes = 3 * 1024 * 1024;

    /// <summary><c>POST /mutate</c>: a pod being created, answered with the patch that injects the sidecar, or a denial.</summary>
    public Task HandleAsync(HttpContext context) => ServeAsync(context, AnswerPodAsync);

    /// <summary><c>POST /validate</c>: a workload being created or updated, answered with warnings or a denial, never a patch.</summary>
    public Task ValidateAsync(HttpContext context) => ServeAsync(context, AnswerWorkloadAsync);

    private async Task ServeAsync(HttpContext context, Func<AdmissionRequest, CancellationToken, Task<AdmissionResponse>> answer)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            AdmissionReview review;
            try
            {
                review = await ReadAsync(context.Request, context.RequestAborted);
            }
            catch (InvalidAdmissionReviewException ex)
            {
                await BadRequestAsync(context, ex.Message);
                return;
            }

            AdmissionResponse response;
            try
            {
                response = await answer(review.Request!, context.RequestAborted);
            }
            catch (InvalidAdmissionReviewException ex)
            {
                await BadRequestAsync(context, ex.Message);
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                JsonSerializer.Serialize(new AdmissionReview { ApiVersion = AdmissionReview.Version, Kind = "AdmissionReview", Response = response }, AdmissionJsonContext.Default.AdmissionReview),
                context.RequestAborted);
        }
        finally
        {
            metrics.Duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private static async Task<AdmissionReview> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new InvalidAdmissionReviewException($"the body is {request.ContentLength} bytes; at most {MaxBodyBytes} are accepted");
        }

        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBodyBytes)
            {
                throw new InvalidAdmissionReviewException($"the body is larger than {MaxBodyBytes} bytes");
            }
        }

        AdmissionReview? review;
        try
        {
            review = JsonSerializer.Deserialize(buffer.WrittenSpan, AdmissionJsonContext.Default.AdmissionReview);
        }
        catch (JsonException ex)
        {
            throw new InvalidAdmissionReviewException($"the body is not JSON: {ex.Message}");
        }

        if (review?.Request is null)
        {
            throw new InvalidAdmissionReviewException("the body is not an AdmissionReview with a request");
        }

        if (review.ApiVersion is not null && review.ApiVersion != AdmissionReview.Version)
        {
            throw new InvalidAdmissionReviewException($"apiVersion {review.ApiVersion} is not supported; expected {AdmissionReview.Version}");
        }

        if (string.IsNullOrEmpty(review.Request.Uid))
        {
            throw new InvalidAdmissionReviewException("request.uid is missing");
        }

        return review;
    }

    private async Task<AdmissionResponse> AnswerPodAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var uid = request.Uid!;
        var @namespace = request.Namespace ?? string.Empty;
        var pod = ObjectName(request);

        var decision = PodAdmission.Decide(request, options.WebhookNamespace, options.Sidecar);
        switch (decision.Outcome)
        {
            case AdmissionOutcome.Denied:
                metrics.Admissions.WithLabels("denied").Inc();
                logger.PodDenied(@namespace, pod, decision.Message!);
                return Denial(uid, decision.Message!);
            case AdmissionOutcome.Skipped:
                return Skipped(uid, @namespace, pod, decision.Message ?? "nothing to do");
        }

        var warnings = await WithIdentityWarningAsync(decision, @namespace, PodAdmission.ServiceAccountName(request.Object!.Value), cancellationToken);
        metrics.Admissions.WithLabels("mutated").Inc();
        logger.PodMutated(@namespace, pod, decision.Patch!.Count);
        if (decision.Message is { } restored)
        {
            logger.SidecarRestored(@namespace, pod, restored);
        }
        return new AdmissionResponse
        {
            Uid = uid,
            Allowed = true,
            PatchType = "JSONPatch",
            Patch = Convert.ToBase64String(Encoding.UTF8.GetBytes(decision.Patch.ToJsonString())),
            Warnings = warnings.Count > 0 ? warnings : null,
        };
    }

    private async Task<AdmissionResponse> AnswerWorkloadAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var uid = request.Uid!;
        var @namespace = request.Namespace ?? string.Empty;
        var kind = request.Kind?.Kind ?? "(no kind)";
        var name = ObjectName(request);

        var decision = WorkloadAdmission.Decide(request, options.WebhookNamespace, options.Sidecar);
        switch (decision.Outcome)
        {
            case AdmissionOutcome.Denied:
                metrics.Admissions.WithLabels("template_denied").Inc();
                logger.TemplateDenied(kind, @namespace, name, decision.Message!);
                return Denial(uid, decision.Message!);
            case AdmissionOutcome.Skipped:
                metrics.Admissions.WithLabels("skipped").Inc();
                logger.TemplateSkipped(kind, @namespace, name, decision.Message ?? "nothing to check");
                return new AdmissionResponse { Uid = uid, Allowed = true };
        }

        var warnings = await WithIdentityWarningAsync(decision, @namespace, decision.ServiceAccountName, cancellationToken);
        metrics.Admissions.WithLabels("template_allowed").Inc();
        logger.TemplateAllowed(kind, @namespace, name, warnings.Count);
        return new AdmissionResponse { Uid = uid, Allowed = true, Warnings = warnings.Count > 0 ? warnings : null };
    }

    // The decision's warnings, and the Workload Identity check's when some of the pod's tokens are its own identity's.
    private async Task<List<string>> WithIdentityWarningAsync(AdmissionDecision decision, string @namespace, string? serviceAccount, CancellationToken cancellationToken)
    {
        var all = decision.Warnings.ToList();
        if (decision.UsesPodIdentity && await identityCheck.WarningAsync(@namespace, serviceAccount, cancellationToken) is { } warning)
        {
            all.Add(warning);
        }

        return all;
    }

    private static AdmissionResponse Denial(string uid, string message) => new()
    {
        Uid = uid,
        Allowed = false,
        Status = new AdmissionStatus(400, message, "BadRequest"),
    };

    private AdmissionResponse Skipped(string uid, string @namespace, string pod, string reason)
    {
        metrics.Admissions.WithLabels("skipped").Inc();
        logger.PodSkipped(@namespace, pod, reason);
        return new AdmissionResponse { Uid = uid, Allowed = true };
    }

    private async Task BadRequestAsync(HttpContext context, string reason)
    {
        metrics.Admissions.WithLabels("invalid").Inc();
        logger.BadRequest(reason);
        await PlainText.WriteAsync(context.Response, StatusCodes.Status400BadRequest, "bad admission request: " + reason, context.RequestAborted);
    }

    // Controllers create pods with generateName and no name: the name is only known after admission.
    private static string ObjectName(AdmissionRequest request)
    {
        if (!string.IsNullOrEmpty(request.Name))
        {
            return request.Name;
        }

        if (request.Object is { ValueKind: JsonValueKind.Object } pod && pod.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            if (metadata.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 } n)
            {
                return n;
            }

            if (metadata.TryGetProperty("generateName", out var generateName) && generateName.ValueKind == JsonValueKind.String)
            {
                return generateName.GetString() + "*";
            }
        }

        return "(unnamed)";
    }
}
