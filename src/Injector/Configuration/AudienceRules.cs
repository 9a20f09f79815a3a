namespace TokenInjector.Configuration;

/// <summary>
/// What counts as an audience. Cloud Run audiences are URLs, custom audiences are free-form strings; both are
/// short printable ASCII. Anything else is refused before it reaches the metadata server.
/// </summary>
internal static class AudienceRules
{
    public const int MaxLength = 1024;

    /// <summary>Returns null when the audience is acceptable, else what is wrong with it.</summary>
    public static string? Problem(string? audience)
    {
        if (string.IsNullOrEmpty(audience))
        {
            return "is empty";
        }

        if (audience.Length > MaxLength)
        {
            return $"is {audience.Length} characters long; an audience has at most {MaxLength}";
        }

        foreach (var c in audience)
        {
            if (c is < '!' or > '~')
            {
                return "has a character that is not printable ASCII (spaces and control characters are not allowed)";
            }
        }

        return null;
    }
}
