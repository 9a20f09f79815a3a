namespace TokenInjector.Webhook;

/// <summary>The request body is not an AdmissionReview the webhook can answer; the handler turns it into a 400.</summary>
internal sealed class InvalidAdmissionReviewException(string message) : Exception(message);
