using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Storage;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The sharded entity of one counter key: the cluster's single writer for that key. On start it loads its row (value and
/// <c>applied_seq</c>) through the store writer, buffering commands meanwhile; then it accepts increments into a checked
/// pending sum, answers reads with stored + pending, and hands the pending delta to the store writer on a jittered timer.
/// One write is unconfirmed at a time; it carries the key's next sequence number, so retrying it after a failure or a
/// time-out can never apply it twice. Increments that arrive meanwhile accumulate for the next write.
/// </para>
/// <para>Hand-off, passivation and CoordinatedShutdown deliver <see cref="StopCounter"/>: the entity flushes, then stops.</para>
/// </summary>
internal sealed class CounterActor : ReceiveActor, IWithTimers, IWithStash
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _key;
    private readonly CounterSettings _settings;
    private readonly IActorRef _storeWriter;

    private long _stored;           // row value as of the last confirmed write
    private long _lastSeq;          // row applied_seq as of the last confirmed write
    private bool _writing;          // a write (seq _lastSeq + 1, delta _inFlight) is not confirmed yet
    private bool _writeOutstanding; // ...and a request for it is at the store writer now
    private long _inFlight;
    private long _pending;          // accepted, not yet part of a write
    private int _failures;
    private int _stashed;
    private bool _stopping;
    private readonly List<IActorRef> _waitingForInFlight = new();
    private readonly List<IActorRef> _waitingForPending = new();

    public CounterActor(string key, CounterSettings settings, IActorRef storeWriter)
    {
        _key = key;
        _settings = settings;
        _storeWriter = storeWriter;
        Loading();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(string key, CounterSettings settings, IActorRef storeWriter) =>
        Akka.Actor.Props.Create(() => new CounterActor(key, settings, storeWriter));

    protected override void PreStart() => RequestLoad();

    protected override void PostStop()
    {
        if (_writing || _pending != 0)
            _log.Warning("Counter [{0}] stopped with {1} unflushed (in flight {2}, pending {3})", _key, _inFlight + _pending, _inFlight, _pending);
    }

    private void Loading()
    {
        Receive<CounterLoaded>(loaded =>
        {
            _stored = loaded.Stored.Value;
            _lastSeq = loaded.Stored.AppliedSeq;
            _failures = 0;
            Timers.Cancel(LoadTimedOut.Instance);
            Become(Active);
            _stashed = 0;
            Stash.UnstashAll();
        });
        Receive<CounterLoadFailed>(failed => LoadFailed(failed.Reason));
        Receive<LoadTimedOut>(_ => LoadFailed($"no answer within {_settings.WriteTimeout}"));
        Receive<RetryLoad>(_ => RequestLoad());
        Receive<CounterEnvelope>(envelope =>
        {
            if (StashBounded())
                return;
            // refused at once: confirm it so the ingest stage's slot is freed
            Refuse(envelope.Command, envelope.ReplyTo, ErrorCode.Saturated, SaturatedMessage());
            Sender.Tell(new CounterEnvelopeTaken(envelope.Id));
        });
        Receive<ICounterCommand>(command =>
        {
            if (!StashBounded())
                Refuse(command, Sender, ErrorCode.Saturated, SaturatedMessage());
        });
        Receive<StopCounter>(_ => Stash.Stash()); // handled once loaded: buffered commands are applied and flushed first
    }

    private void Active()
    {
        Receive<CounterEnvelope>(envelope =>
        {
            Handle(envelope.Command, envelope.ReplyTo);
            Sender.Tell(new CounterEnvelopeTaken(envelope.Id));
        });
        Receive<ICounterCommand>(command => Handle(command, Sender));
        Receive<FlushTick>(_ => StartWrite());
        Receive<CounterWritten>(Written);
        Receive<CounterWriteFailed>(failed =>
        {
            if (_writeOutstanding && failed.Seq == _lastSeq + 1)
                WriteFailed(failed.Reason);
        });
        Receive<WriteTimedOut>(_ =>
        {
            if (_writeOutstanding)
                WriteFailed($"no answer within {_settings.WriteTimeout}");
        });
        Receive<RetryWrite>(_ =>
        {
            if (_writing && !_writeOutstanding)
                SendWrite();
        });
        Receive<StopCounter>(_ =>
        {
            _stopping = true;
            if (_writing)
                return; // Written() continues the stop
            if (_pending != 0)
                StartWrite();
            else
                Context.Stop(Self);
        });
    }

    private void Handle(ICounterCommand command, IActorRef replyTo)
    {
        switch (command)
        {
            case Increment increment:
                Apply(increment, replyTo);
                break;
            case GetCounter:
                Reply(replyTo, new CounterValue(_key, _stored, _inFlight + _pending, _stored + _inFlight + _pending));
                break;
            case FlushCounter:
                Flush(replyTo);
                break;
            default:
                Refuse(command, replyTo, ErrorCode.InvalidArgument, $"unknown counter command {command.GetType().Name}");
                break;
        }
    }

    private void Apply(Increment increment, IActorRef replyTo)
    {
        var pending = (Int128)_pending + increment.Delta;
        var total = (Int128)_stored + _inFlight + _pending + increment.Delta;
        if (pending < long.MinValue || pending > long.MaxValue || total < long.MinValue || total > long.MaxValue)
        {
            Refuse(increment, replyTo, ErrorCode.Overflow,
                $"adding {increment.Delta} to the counter's total {_stored + _inFlight + _pending} overflows a 64-bit integer");
            return;
        }

        _pending = (long)pending;
        Reply(replyTo, new IncrementAccepted(_key, increment.Delta));
        if (!_writing && _pending != 0 && !Timers.IsTimerActive(FlushTick.Instance))
            Timers.StartSingleTimer(FlushTick.Instance, FlushTick.Instance, JitteredInterval());
    }

    private void Flush(IActorRef replyTo)
    {
        if (_waitingForPending.Count + _waitingForInFlight.Count >= _settings.EntityBufferSize)
        {
            Refuse(new FlushCounter(_key), replyTo, ErrorCode.Saturated, $"{_settings.EntityBufferSize} flush requests are already waiting");
            return;
        }

        if (_pending != 0)
        {
            _waitingForPending.Add(replyTo);
            StartWrite();
        }
        else if (_writing)
        {
            _waitingForInFlight.Add(replyTo);
        }
        else
        {
            Reply(replyTo, new CounterFlushed(_key, _stored));
        }
    }

    private void StartWrite()
    {
        if (_writing)
            return;
        if (_pending == 0)
        {
            AnswerAll(_waitingForPending, new CounterFlushed(_key, _stored));
            return;
        }

        Timers.Cancel(FlushTick.Instance);
        _inFlight = _pending;
        _pending = 0;
        _writing = true;
        _waitingForInFlight.AddRange(_waitingForPending);
        _waitingForPending.Clear();
        SendWrite();
    }

    private void SendWrite()
    {
        _writeOutstanding = true;
        _storeWriter.Tell(new WriteCounter(new CounterWrite(_key, _inFlight, _lastSeq + 1)));
        Timers.StartSingleTimer(WriteTimedOut.Instance, WriteTimedOut.Instance, _settings.WriteTimeout);
    }

    private void Written(CounterWritten written)
    {
        // a late answer to a write that timed out is still the answer to that write: same key, same seq
        if (!_writing || written.Seq != _lastSeq + 1)
            return;
        if (written.Stored.AppliedSeq < written.Seq)
        {
            WriteFailed($"store reports applied_seq {written.Stored.AppliedSeq} after write {written.Seq}");
            return;
        }

        if (written.Stored.AppliedSeq > written.Seq)
            _log.Error("Counter [{0}]: store applied_seq {1} is ahead of this entity's write {2}; another writer touched the row",
                _key, written.Stored.AppliedSeq, written.Seq);

        Timers.Cancel(WriteTimedOut.Instance);
        Timers.Cancel(RetryWrite.Instance);
        _writing = false;
        _writeOutstanding = false;
        _stored = written.Stored.Value;
        _lastSeq = written.Stored.AppliedSeq;
        _inFlight = 0;
        _failures = 0;
        AnswerAll(_waitingForInFlight, new CounterFlushed(_key, _stored));

        if (_pending != 0 && (_stopping || _waitingForPending.Count > 0))
            StartWrite();
        else if (_pending != 0)
            Timers.StartSingleTimer(FlushTick.Instance, FlushTick.Instance, JitteredInterval());
        else if (_stopping)
            Context.Stop(Self);
    }

    private void WriteFailed(string reason)
    {
        _writeOutstanding = false;
        Timers.Cancel(WriteTimedOut.Instance);
        _failures++;
        var backoff = Backoff(_failures);
        _log.Warning("Counter [{0}] write {1} of {2} failed (attempt {3}): {4}; retrying in {5}",
            _key, _lastSeq + 1, _inFlight, _failures, reason, backoff);
        AnswerAll(_waitingForInFlight, new CounterRejected(_key, ErrorCode.StoreFailure, $"store write failed, retrying: {reason}"));
        Timers.StartSingleTimer(RetryWrite.Instance, RetryWrite.Instance, backoff);
    }

    private void RequestLoad()
    {
        _storeWriter.Tell(new LoadCounter(_key));
        Timers.StartSingleTimer(LoadTimedOut.Instance, LoadTimedOut.Instance, _settings.WriteTimeout);
    }

    private void LoadFailed(string reason)
    {
        Timers.Cancel(LoadTimedOut.Instance);
        _failures++;
        var backoff = Backoff(_failures);
        _log.Warning("Counter [{0}] load failed (attempt {1}): {2}; retrying in {3}", _key, _failures, reason, backoff);
        Timers.StartSingleTimer(RetryLoad.Instance, RetryLoad.Instance, backoff);
    }

    private bool StashBounded()
    {
        if (_stashed >= _settings.EntityBufferSize)
            return false;
        _stashed++;
        Stash.Stash();
        return true;
    }

    private string SaturatedMessage() =>
        $"counter [{_key}] is loading and already buffers {_settings.EntityBufferSize} messages";

    private TimeSpan JitteredInterval() =>
        _settings.FlushInterval * (1 - _settings.FlushJitter * Random.Shared.NextDouble());

    private TimeSpan Backoff(int attempt)
    {
        var exponent = Math.Min(attempt - 1, 30);
        var ms = Math.Min(_settings.RetryMaxBackoff.TotalMilliseconds, _settings.RetryMinBackoff.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(ms * (1 + _settings.RetryRandomFactor * Random.Shared.NextDouble()));
    }

    private void Refuse(ICounterCommand command, IActorRef replyTo, ErrorCode code, string message)
    {
        if (replyTo.CanReceiveReplies())
            replyTo.Tell(new CounterRejected(command.Key, code, message));
        else
            _log.Warning("Counter [{0}] refused {1} ({2}): {3}", _key, command, code, message);
    }

    private void Reply(IActorRef replyTo, ICounterReply reply)
    {
        if (replyTo.CanReceiveReplies())
            replyTo.Tell(reply);
    }

    private void AnswerAll(List<IActorRef> waiting, ICounterReply reply)
    {
        foreach (var replyTo in waiting)
            Reply(replyTo, reply);
        waiting.Clear();
    }

    private sealed class FlushTick
    {
        public static readonly FlushTick Instance = new();

        private FlushTick()
        {
        }
    }

    private sealed class WriteTimedOut
    {
        public static readonly WriteTimedOut Instance = new();

        private WriteTimedOut()
        {
        }
    }

    private sealed class RetryWrite
    {
        public static readonly RetryWrite Instance = new();

        private RetryWrite()
        {
        }
    }

    private sealed class LoadTimedOut
    {
        public static readonly LoadTimedOut Instance = new();

        private LoadTimedOut()
        {
        }
    }

    private sealed class RetryLoad
    {
        public static readonly RetryLoad Instance = new();

        private RetryLoad()
        {
        }
    }
}
