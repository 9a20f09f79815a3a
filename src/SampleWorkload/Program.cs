using System.Collections;
using TokenInjector.DevCommandLine;
using TokenInjector.SampleWorkload;

// sample-workload server | client: the echo service deployed on Cloud Run, and the app that calls it through the
// sidecar. Only wiring lives here.
var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(entry => (string)entry.Key, entry => (string?)entry.Value ?? string.Empty, StringComparer.Ordinal);
return await DevCommand.MainAsync(SampleWorkloadCommand.Create(environment, TimeProvider.System), args);
