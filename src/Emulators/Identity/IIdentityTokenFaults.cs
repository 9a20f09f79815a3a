namespace TokenInjector.Emulators.Identity;

/// <summary>The misbehaviour of <see cref="IdentityTokenIssuer"/> that tests switch on while the emulator runs.</summary>
internal interface IIdentityTokenFaults
{
    /// <summary>
    /// Every ID token minted names another audience than the one asked: <see cref="IdentityTokenIssuer.WrongAudienceSuffix"/>
    /// is appended. For testing a client's <c>aud</c> check.
    /// </summary>
    bool WrongAudience { get; }
}
