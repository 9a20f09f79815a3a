namespace TokenInjector.Hosting;

/// <summary>The composition root's log events (event ids 500–599).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Debug, Message = "Start-up garbage released: managed heap {BeforeKiB} KiB -> {AfterKiB} KiB; {Mappings} file mappings paged out")]
    public static partial void StartupGarbageReleased(this ILogger logger, long beforeKiB, long afterKiB, int mappings);

    [LoggerMessage(EventId = 501, Level = LogLevel.Debug, Message = "Quiet after a busy spell, memory released: GC committed {BeforeKiB} KiB -> {AfterKiB} KiB; {Mappings} file mappings paged out")]
    public static partial void IdleMemoryReleased(this ILogger logger, long beforeKiB, long afterKiB, int mappings);
}
