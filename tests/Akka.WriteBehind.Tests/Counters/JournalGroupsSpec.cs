using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>The journal groups' bookkeeping and the retry back-off, without an actor.</summary>
public sealed class JournalGroupsSpec
{
    private static JournalWaiting Inc(long delta) => new(delta, ActorRefs.Nobody, null, 0);

    [Fact]
    public void Should_persist_one_group_at_a_time_and_gather_what_arrives_meanwhile()
    {
        var groups = new JournalGroups(10);
        groups.Add(Inc(2), 2, default);
        groups.Add(Inc(3), 5, [new RequestDelta("r1", 3)]);
        Assert.True(groups.TryStartPersist());
        Assert.Equal(5, groups.PersistingSum);
        Assert.Equal(["r1"], groups.PersistingRequests.Select(r => r.Id));

        groups.Add(Inc(7), 7, default);
        Assert.False(groups.TryStartPersist()); // one persist per key at a time
        Assert.Equal(12, groups.Unjournaled);

        Assert.Equal([2L, 3L], groups.EndPersist().Select(w => w.Delta));
        Assert.True(groups.TryStartPersist());
        Assert.Equal(7, groups.PersistingSum);
        Assert.Equal([7L], groups.EndPersist().Select(w => w.Delta));
        Assert.True(groups.IsEmpty);
    }

    [Fact]
    public void Should_defer_a_read_until_the_persists_of_earlier_increments_are_done()
    {
        var groups = new JournalGroups(10);
        Assert.Equal(JournalGroups.Deferral.NotNeeded, groups.TryDefer(new GetCounter("k"), ActorRefs.Nobody));

        groups.Add(Inc(1), 1, default);
        Assert.True(groups.TryStartPersist());
        groups.Add(Inc(1), 1, default); // waits for the next persist
        Assert.Equal(JournalGroups.Deferral.Deferred, groups.TryDefer(new GetCounter("k"), ActorRefs.Nobody));

        groups.EndPersist();
        Assert.Empty(groups.TakeReady()); // its increments' group is not persisted yet
        Assert.True(groups.TryStartPersist());
        groups.EndPersist();
        Assert.Single(groups.TakeReady());
        Assert.Empty(groups.TakeReady());
    }

    [Fact]
    public void Should_release_deferred_reads_when_the_waiting_group_is_refused()
    {
        var groups = new JournalGroups(10);
        groups.Add(Inc(1), 1, default);
        Assert.Equal(JournalGroups.Deferral.Deferred, groups.TryDefer(new FlushCounter("k"), ActorRefs.Nobody));
        Assert.Single(groups.TakeGroup());
        Assert.Single(groups.TakeReady());
        Assert.True(groups.IsEmpty);
    }

    [Fact]
    public void Should_bound_the_group_and_the_deferred_reads()
    {
        var groups = new JournalGroups(2);
        groups.Add(Inc(1), 1, default);
        Assert.True(groups.HasRoom);
        groups.Add(Inc(1), 2, default);
        Assert.False(groups.HasRoom);
        Assert.Equal(JournalGroups.Deferral.Deferred, groups.TryDefer(new GetCounter("k"), ActorRefs.Nobody));
        Assert.Equal(JournalGroups.Deferral.Deferred, groups.TryDefer(new GetCounter("k"), ActorRefs.Nobody));
        Assert.Equal(JournalGroups.Deferral.Full, groups.TryDefer(new GetCounter("k"), ActorRefs.Nobody));
    }

    [Fact]
    public void Should_answer_a_refusal_after_the_increments_still_waiting()
    {
        var groups = new JournalGroups(10);
        Assert.False(groups.TryQueueRefusal(Inc(5))); // nothing waits: answered at once

        groups.Add(Inc(1), 1, default);
        Assert.True(groups.TryStartPersist());
        Assert.True(groups.TryQueueRefusal(new JournalWaiting(5, ActorRefs.Nobody, null, 0, new CounterRejected("k", ErrorCode.Overflow, "x"))));
        Assert.Equal(1, groups.PersistingSum); // the refusal is not part of the delta
        var answered = groups.EndPersist();
        Assert.Equal([1L, 5L], answered.Select(w => w.Delta));
        Assert.Null(answered[0].Refusal);
        Assert.NotNull(answered[1].Refusal);
    }

    [Fact]
    public void Should_allocate_nothing_per_persist_once_warm()
    {
        var groups = new JournalGroups(10);
        for (var i = 0; i < 3; i++)
            Persist(); // the lists reach their size and the code is jitted

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            Persist();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Persist()
        {
            groups.Add(Inc(1), 1, default); // a struct in the group's list: nothing allocated per increment
            Assert.True(groups.TryStartPersist());
            // counted, not enumerated: an enumerator through the interface would be the test's own allocation
            Assert.True(groups.TakeReady().Count == 0);
            Assert.True(groups.EndPersist().Count == 1);
        }
    }

    [Fact]
    public void Should_hand_a_command_sets_ingest_slot_to_its_last_increment_wherever_it_waits()
    {
        var groups = new JournalGroups(10);
        groups.Add(Inc(1), 1, default);
        var first = groups.Last;
        Assert.True(groups.TryStartPersist()); // the increment now waits in the persist in flight
        Assert.True(groups.TryQueueRefusal(new JournalWaiting(2, ActorRefs.Nobody, null, 0, new CounterRejected("k", ErrorCode.Overflow, "x"))));
        var refusal = groups.Last;

        JournalGroups.HandOver(first, ActorRefs.Nobody, 7);
        JournalGroups.HandOver(refusal, ActorRefs.Nobody, 8);
        var answered = groups.EndPersist();
        Assert.Equal([(1L, 7L), (2L, 8L)], answered.Select(w => (w.Delta, w.EnvelopeId)));
        Assert.All(answered, w => Assert.Same(ActorRefs.Nobody, w.Ingest));
    }

    [Fact]
    public void Should_release_only_the_reads_whose_persists_are_done()
    {
        var groups = new JournalGroups(10);
        groups.Add(Inc(1), 1, default);
        Assert.True(groups.TryStartPersist());
        Assert.Equal(JournalGroups.Deferral.Deferred, groups.TryDefer(new GetCounter("first"), ActorRefs.Nobody));
        groups.Add(Inc(1), 1, default);
        Assert.Equal(JournalGroups.Deferral.Deferred, groups.TryDefer(new GetCounter("second"), ActorRefs.Nobody));

        groups.EndPersist();
        Assert.Equal(["first"], groups.TakeReady().Select(d => d.Command.Key));
        Assert.True(groups.TryStartPersist());
        Assert.Empty(groups.TakeReady());
        groups.EndPersist();
        Assert.Equal(["second"], groups.TakeReady().Select(d => d.Command.Key));
    }

    [Theory]
    [InlineData(1, 0.0, 100)]
    [InlineData(2, 0.0, 200)]
    [InlineData(4, 0.0, 800)]
    [InlineData(5, 0.0, 1000)]   // capped
    [InlineData(50, 0.0, 1000)]  // no overflow for long outages
    [InlineData(1, 0.5, 110)]    // 20% factor, half-way
    public void Should_double_the_back_off_up_to_its_cap(int attempt, double random, double expectedMs)
    {
        var backoff = RetryBackoff.Of(attempt, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 0.2, random);
        Assert.Equal(expectedMs, backoff.TotalMilliseconds, 6);
    }
}
