using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>The check's cache and timeout on a fake clock: no waiting for real time.</summary>
public sealed class WorkloadIdentityCheckTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly FakeLookup _lookup = new();

    [Fact]
    public async Task Answer_IsCachedForTheTtl_ThenLookedUpAgain()
    {
        _lookup.Accounts[("apps", "default")] = new Dictionary<string, string>();
        var check = Check();

        Assert.NotNull(await check.WarningAsync("apps", null, CancellationToken.None).WaitAsync(TestTimeout));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.NotNull(await check.WarningAsync("apps", "", CancellationToken.None).WaitAsync(TestTimeout));
        Assert.Equal(1, _lookup.Calls);

        _lookup.Accounts[("apps", "default")] = new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = "gsa@p.iam.gserviceaccount.com" };
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Null(await check.WarningAsync("apps", "default", CancellationToken.None).WaitAsync(TestTimeout));
        Assert.Equal(2, _lookup.Calls);
    }

    [Fact]
    public async Task MissingServiceAccount_NoWarning()
    {
        Assert.Null(await Check().WarningAsync("apps", "ghost", CancellationToken.None).WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task EmptyAnnotationValue_Warns()
    {
        _lookup.Accounts[("apps", "sa")] = new Dictionary<string, string> { ["iam.gke.io/gcp-service-account"] = " " };

        Assert.NotNull(await Check().WarningAsync("apps", "sa", CancellationToken.None).WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task LookupThatNeverAnswers_GivesUpAtTheTimeout_AndIsNotCached()
    {
        _lookup.Hang = true;
        var check = Check();

        var pending = check.WarningAsync("apps", "sa", CancellationToken.None);
        Assert.False(pending.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Null(await pending.WaitAsync(TestTimeout));
        _lookup.Hang = false;
        _lookup.Accounts[("apps", "sa")] = new Dictionary<string, string>();
        Assert.NotNull(await check.WarningAsync("apps", "sa", CancellationToken.None).WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task FailingLookup_NoWarning()
    {
        _lookup.Failure = new HttpRequestException("connection refused");

        Assert.Null(await Check().WarningAsync("apps", "sa", CancellationToken.None).WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task NoKubernetesAccess_NoWarning()
    {
        var check = new WorkloadIdentityCheck(null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), _time, NullLogger.Instance);

        Assert.Null(await check.WarningAsync("apps", "sa", CancellationToken.None).WaitAsync(TestTimeout));
    }

    private WorkloadIdentityCheck Check() =>
        new(_lookup, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), _time, NullLogger.Instance);

    private sealed class FakeLookup : IServiceAccountLookup
    {
        public Dictionary<(string, string), IDictionary<string, string>> Accounts { get; } = [];

        public bool Hang { get; set; }

        public Exception? Failure { get; set; }

        public int Calls { get; private set; }

        public async Task<IDictionary<string, string>?> GetAnnotationsAsync(string @namespace, string name, CancellationToken cancellationToken)
        {
            Calls++;
            if (Failure is not null)
            {
                throw Failure;
            }

            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return Accounts.TryGetValue((@namespace, name), out var annotations) ? annotations : null;
        }
    }
}
