using TokenInjector.Commands;

// One executable, several commands (docs/ARCHITECTURE.md "The parts"); Commands/ holds them.
return await InjectorCommandLine.RunAsync(args, CancellationToken.None);
