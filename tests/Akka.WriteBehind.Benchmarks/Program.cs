using Akka.WriteBehind.Benchmarks;

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
