using TokenInjector.DevCommandLine;
using TokenInjector.Emulators;

// Local emulators of the GKE metadata server and of Cloud Run's front end (docs/ARCHITECTURE.md "The emulators").
// Only wiring lives here.
return await DevCommand.MainAsync(EmulatorsCommand.Create(), args);
