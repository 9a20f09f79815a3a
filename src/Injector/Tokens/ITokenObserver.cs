namespace TokenInjector.Tokens;

/// <summary>Told about each new token of a configured audience (token files use it).</summary>
internal interface ITokenObserver
{
    void OnTokenRenewed(string audience, IdToken token);
}
