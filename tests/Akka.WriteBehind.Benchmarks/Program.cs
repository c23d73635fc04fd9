using Akka.WriteBehind.Benchmarks;
using Akka.WriteBehind.Benchmarks.Http;

// the http scenario's write-through endpoint, run by a round in a process of its own
if (args.Length > 0 && args[0] == WriteThroughServer.Command)
    return await WriteThroughServer.RunAsync(args);

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 64;
}

return options.IsChild ? await Round.RunAsync(options) : await Runner.RunAsync(options);
