// Local emulators of the GKE metadata server and of Cloud Run's front end (see EMULATORS.md).
Console.Error.WriteLine("usage: emulators metadata|cloud-run [options]");
return 2;
