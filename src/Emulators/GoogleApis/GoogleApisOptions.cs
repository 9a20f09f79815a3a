using TokenInjector.Emulators.Identity;

namespace TokenInjector.Emulators.GoogleApis;

/// <summary>What Google's emulated token endpoints need: the project's service accounts and the clock.</summary>
/// <param name="ServiceAccount">The account whose keys <see cref="GoogleTokenEndpoint.CreateServiceAccountKey"/> makes, and that IAM acts as.</param>
/// <param name="OtherServiceAccounts">
/// More accounts of the project (by email), which IAM's <c>generateIdToken</c> acts as for any caller that holds an
/// access token of the emulator: targets and delegates of impersonation. Any other account is not found.
/// </param>
/// <param name="Time">Clock for the expiry of access tokens and the check of assertions and subject tokens.</param>
internal sealed record GoogleApisOptions(ServiceAccountIdentity ServiceAccount, IReadOnlyList<string> OtherServiceAccounts, TimeProvider Time);
