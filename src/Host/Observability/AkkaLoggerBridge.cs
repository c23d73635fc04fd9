using System.Collections;
using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Dispatch;
using Akka.Event;
using MelLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Akka.WriteBehind.Host.Observability;

/// <summary>
/// Akka logger that writes every log event to Microsoft.Extensions.Logging as a structured entry: the category is the
/// logging class (e.g. <c>Akka.WriteBehind.Counters.CounterActor</c>), the message is the rendered template, and the state
/// holds the template's named properties (<c>CounterKey</c>, <c>FlushSeq</c>, <c>BatchId</c>, <c>StoreBatch</c>, ...), the
/// <c>LogSource</c> (actor path) and <c>{OriginalFormat}</c>, as Microsoft.Extensions.Logging's own templates do, so JSON
/// and OpenTelemetry log sinks see them as fields.
/// </summary>
public sealed class AkkaLoggerBridge : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>Creates the logger; its factory comes from the host's services.</summary>
    public AkkaLoggerBridge()
    {
        var factory = DependencyResolver.For(Context.System).Resolver.GetService<ILoggerFactory>();
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Write(factory, e));
    }

    private static void Write(ILoggerFactory factory, LogEvent e)
    {
        // a class that logs has its own category; string sources (remoting, cluster, ...) share "Akka"
        var category = e.LogClass is { } type && type != typeof(DummyClassForStringSources) ? type.FullName ?? "Akka" : "Akka";
        var logger = factory.CreateLogger(category);
        var level = e.LogLevel() switch
        {
            Akka.Event.LogLevel.DebugLevel => MelLogLevel.Debug,
            Akka.Event.LogLevel.InfoLevel => MelLogLevel.Information,
            Akka.Event.LogLevel.WarningLevel => MelLogLevel.Warning,
            _ => MelLogLevel.Error,
        };
        if (!logger.IsEnabled(level))
            return;
        logger.Log(level, default, new LogState(e), e.Cause, static (state, _) => state.ToString());
    }

    /// <summary>The state of one entry: template properties, log source and the original template.</summary>
    private sealed class LogState : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly string _message;
        private readonly List<KeyValuePair<string, object?>> _properties = new();

        public LogState(LogEvent e)
        {
            _message = e.Message?.ToString() ?? "";
            if (e.Message is LogMessage template)
            {
                foreach (var (name, value) in template.GetProperties())
                    if (!int.TryParse(name, out _)) // positional {0} templates have no names worth keeping
                        _properties.Add(new(name, value));
            }

            _properties.Add(new("LogSource", e.LogSource));
            _properties.Add(new("{OriginalFormat}", e.Message is LogMessage m ? m.Format : _message));
        }

        public int Count => _properties.Count;

        public KeyValuePair<string, object?> this[int index] => _properties[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _properties.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => _message;
    }
}
