using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterStoreFailureSpec : CounterSpecBase
{
    private readonly FailingStore _failing;

    public CounterStoreFailureSpec(ITestOutputHelper output) : base(output)
    {
        _failing = new FailingStore(Target, failures: 3);
        Store = _failing;
    }

    [Fact]
    public async Task Should_retry_failed_writes_with_backoff_until_the_totals_are_exact()
    {
        var expected = new Dictionary<string, long>();
        for (var i = 0; i < 300; i++)
        {
            var key = $"retry-{i % 30}";
            Assert.IsType<IncrementAccepted>(await AskAsync(new Increment(key, i + 1)));
            expected[key] = expected.GetValueOrDefault(key) + i + 1;
        }

        await AwaitAssertAsync(async () => Assert.Equal(expected, await Database.ReadCountersAsync()), AwaitTimeout);
        Assert.Equal(3, _failing.Failed);
        foreach (var (key, total) in expected)
            Assert.Equal(new CounterValue(key, total, 0, total), await AskAsync(new GetCounter(key)));
    }
}

/// <summary>A store that stays down makes each counter warn once, not once per retry, and its writer warn once for all of them.</summary>
public sealed class CounterRetryLoggingSpec : CounterSpecBase
{
    private readonly FailingStore _failing;

    public CounterRetryLoggingSpec(ITestOutputHelper output)
        : base(output, "akka.write-behind.counters { flush-interval = 1h, retry { min-backoff = 10ms, max-backoff = 20ms } }")
    {
        _failing = new FailingStore(Target, failures: 8);
        Store = _failing;
    }

    [Fact]
    public async Task Should_warn_once_per_counter_while_its_writes_keep_failing()
    {
        await AskAsync(new Increment("down", 3));
        await EventFilter.Warning(contains: "Counter [down] write").ExpectAsync(1, async () =>
        {
            Assert.IsType<CounterRejected>(await AskAsync(new FlushCounter("down")));
            await AwaitAssertAsync(async () => Assert.Equal(3, await StoredValueAsync("down")), AwaitTimeout);
        }, AwaitTimeout);
        Assert.Equal(8, _failing.Failed);
    }

    [Fact]
    public async Task Should_log_the_failing_store_once_with_its_cause_and_once_when_it_answers_again()
    {
        await AskAsync(new Increment("down", 3));
        await EventFilter.Info(contains: "Counter store answers again after 8 failed calls").ExpectAsync(1, async () =>
            await EventFilter.Warning(contains: "Counter store write").ExpectAsync(1, async () =>
            {
                Assert.IsType<CounterRejected>(await AskAsync(new FlushCounter("down")));
                await AwaitAssertAsync(async () => Assert.Equal(3, await StoredValueAsync("down")), AwaitTimeout);
            }, AwaitTimeout), AwaitTimeout);
        Assert.Equal(8, _failing.Failed);
    }
}

public sealed class CounterFlushFailureSpec : CounterSpecBase
{
    private readonly FailingStore _failing;

    public CounterFlushFailureSpec(ITestOutputHelper output) : base(output, "akka.write-behind.counters.flush-interval = 1h")
    {
        _failing = new FailingStore(Target, failures: 1);
        Store = _failing;
    }

    [Fact]
    public async Task Should_tell_the_flush_caller_about_a_failed_write_and_keep_the_delta()
    {
        await AskAsync(new Increment("flaky", 9));

        var rejected = Assert.IsType<CounterRejected>(await AskAsync(new FlushCounter("flaky")));
        Assert.Equal(ErrorCode.StoreFailure, rejected.Code);
        Assert.Equal(new CounterValue("flaky", 0, 9, 9), await AskAsync(new GetCounter("flaky")));

        // the entity retries by itself; a later flush confirms the stored value
        await AwaitAssertAsync(async () => Assert.Equal(9, await StoredValueAsync("flaky")), AwaitTimeout);
        Assert.Equal(new CounterFlushed("flaky", 9), await AskAsync(new FlushCounter("flaky")));
    }
}

public sealed class CounterLostAcknowledgementSpec : CounterSpecBase
{
    private readonly FailingStore _failing;

    public CounterLostAcknowledgementSpec(ITestOutputHelper output) : base(output, "akka.write-behind.counters.flush-interval = 1h")
    {
        // the first two transactions commit, then the store throws: the entity cannot know its write landed
        _failing = new FailingStore(Target, failures: 2, commitThenFail: true);
        Store = _failing;
    }

    [Fact]
    public async Task Should_not_apply_a_retried_write_twice()
    {
        await AskAsync(new Increment("once", 100));
        Assert.Equal(ErrorCode.StoreFailure, Assert.IsType<CounterRejected>(await AskAsync(new FlushCounter("once"))).Code);

        await AwaitAssertAsync(async () =>
            Assert.Equal(new CounterFlushed("once", 100), await AskAsync(new FlushCounter("once"))), AwaitTimeout);

        Assert.Equal(2, _failing.Failed);
        Assert.Equal(100, await StoredValueAsync("once"));
        Assert.Equal(new CounterValue("once", 100, 0, 100), await AskAsync(new GetCounter("once")));
    }
}

/// <summary>
/// An outage fails every counter holding increments at once: the first few warn, naming their keys, the others log at
/// debug level; once the store answers, the first few of the next outage warn again.
/// </summary>
public sealed class CounterOutageLoggingSpec : CounterSpecBase
{
    private const int Keys = 25;
    private readonly SwitchedStore _switched;

    public CounterOutageLoggingSpec(ITestOutputHelper output)
        : base(output, "akka.write-behind.counters { flush-interval = 1h, retry { min-backoff = 10ms, max-backoff = 50ms } }")
    {
        _switched = new SwitchedStore(Target);
        Store = _switched;
    }

    [Fact]
    public async Task Should_let_the_first_few_counters_of_an_outage_warn_and_the_others_log_at_debug_level()
    {
        for (var outage = 0; outage < 2; outage++)
        {
            var keys = Enumerable.Range(0, Keys).Select(i => $"outage-{outage}-{i}").ToArray();
            foreach (var key in keys)
                Assert.IsType<IncrementAccepted>(await AskAsync(new Increment(key, 1))); // loaded while the store is up

            _switched.Down = true;
            await EventFilter.Warning(contains: "] write ").ExpectAsync(CounterLedger.FailureWarningsPerOutage, async () =>
            {
                var flushes = await Task.WhenAll(keys.Select(key => AskAsync(new FlushCounter(key))));
                Assert.All(flushes, reply => Assert.IsType<CounterRejected>(reply));
                var failed = _switched.Failed;
                await AwaitConditionAsync(() => Task.FromResult(_switched.Failed >= failed + 5), AwaitTimeout); // the retries fail too
            }, AwaitTimeout);

            _switched.Down = false;
            await AwaitAssertAsync(async () =>
            {
                var rows = await Database.ReadCountersAsync();
                Assert.All(keys, key => Assert.Equal(1, rows.GetValueOrDefault(key)));
            }, AwaitTimeout);
        }
    }

    /// <summary>Fails every read and write while <see cref="Down"/>.</summary>
    private sealed class SwitchedStore(ICounterStore inner) : ICounterStore
    {
        private volatile bool _down;
        private int _failed;

        public bool Down
        {
            get => _down;
            set => _down = value;
        }

        public int Failed => Volatile.Read(ref _failed);

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default) =>
            _down ? Fail<IReadOnlyDictionary<string, StoredCounter>>() : inner.ApplyAsync(writes, cancellationToken);

        public Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
            _down ? Fail<IReadOnlyDictionary<string, StoredCounter>>() : inner.ReadAsync(keys, cancellationToken);

        private Task<T> Fail<T>()
        {
            Interlocked.Increment(ref _failed);
            return Task.FromException<T>(new InvalidOperationException("injected outage"));
        }
    }
}
