using TokenInjector.Commands;
using TokenInjector.Webhook;

// One executable, several roles (DESIGN.md "Parts").
return args switch
{
    ["sidecar", .. var rest] => await SidecarCommand.RunAsync(rest),
    ["token", .. var rest] => await TokenCommand.RunAsync(rest),
    ["webhook", .. var rest] when WebhookRole.IsBuiltIn => await WebhookCommand.RunAsync(rest, CancellationToken.None),
    ["webhook", ..] => WebhookRole.ExecFullBuild(args),
    ["--version"] => PrintVersion(),
    ["--help" or "-h"] => Usage(Console.Out, exitCode: 0),
    _ => Usage(Console.Error, exitCode: 2),
};

static int PrintVersion()
{
    Console.Out.WriteLine("injector " + typeof(SidecarCommand).Assembly.GetName().Version);
    return 0;
}

static int Usage(TextWriter output, int exitCode)
{
    output.WriteLine("""
        usage: injector <command> [options]
          sidecar   keep ID tokens fresh, serve them on a Unix socket, proxy routes to Cloud Run
          webhook   mutating admission webhook that injects the sidecar
          token     print a token fetched through the sidecar's socket
        'injector <command> --help' lists a command's options.
        """);
    return exitCode;
}
