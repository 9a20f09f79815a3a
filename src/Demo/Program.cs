using TokenInjector.Demo;
using TokenInjector.DevCommandLine;

// scripts/demo (and scripts/aot-smoke, as 'demo smoke'): the sidecar on this machine, against the built-in emulators.
// Only wiring lives here. Ctrl-C, SIGTERM or a closed terminal end a run early, through the orderly shutdown: every
// child stopped and the work directory removed.
return await DevCommand.MainAsync(DemoCommand.Create(), args);
