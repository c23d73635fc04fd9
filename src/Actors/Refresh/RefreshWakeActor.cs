using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// INTERNAL API
/// <para>
/// Makes refresh resume without a caller (the equivalent of remember-entities, without its store): right after start, every
/// <c>wake-interval</c>, and when a cluster member is removed (its items were handed off and stopped), it reads up to
/// <c>wake-limit</c> ids of stored non-terminal items and sends each a <see cref="WakeItem"/> through the shard region,
/// which starts its entity wherever its shard lives; the entity loads the item and its node's supervisor tracks it (unless
/// that node is at max-items-per-node). Pages continue where the previous wake-up stopped, so every item is reached.
/// </para>
/// </summary>
internal sealed class RefreshWakeActor : UntypedActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _region;
    private readonly IRefreshItemStore _store;
    private readonly RefreshSettings _settings;
    private string? _after;

    public RefreshWakeActor(IActorRef region, IRefreshItemStore store, RefreshSettings settings)
    {
        _region = region;
        _store = store;
        _settings = settings;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef region, IRefreshItemStore store, RefreshSettings settings) =>
        Akka.Actor.Props.Create(() => new RefreshWakeActor(region, store, settings));

    protected override void PreStart()
    {
        Self.Tell(Wake.Instance);
        if (_settings.WakeInterval is { } interval)
            Timers.StartPeriodicTimer(Wake.Instance, Wake.Instance, interval);
        Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.MemberRemoved));
    }

    protected override void PostStop() => Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    protected override void OnReceive(object message) => Idle(message);

    /// <summary>No page is being read: a <see cref="Wake"/> reads the next one.</summary>
    private void Idle(object message)
    {
        switch (message)
        {
            case Wake:
                _store.ActiveIdsAsync(_after, _settings.WakeLimit).PipeTo(Self, success: ids => new Page(ids, null),
                    failure: e => new Page([], $"{e.GetType().Name}: {e.GetBaseException().Message}"));
                Become(Reading);
                break;
            default:
                Common(message);
                break;
        }
    }

    /// <summary>One page at a time: a wake-up that comes while a page is read is dropped, the next one reads.</summary>
    private void Reading(object message)
    {
        switch (message)
        {
            case Wake:
                break;
            case Page page:
                Become(Idle);
                WakeItems(page);
                break;
            default:
                Common(message);
                break;
        }
    }

    private void Common(object message)
    {
        switch (message)
        {
            case ClusterEvent.MemberRemoved:
                _after = null;
                Self.Tell(Wake.Instance);
                break;
            case ClusterEvent.CurrentClusterState:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void WakeItems(Page page)
    {
        if (page.Error is not null)
        {
            _log.Warning("Refresh set {0}: reading item ids to wake failed ({1}); retrying at the next wake-up", _settings.TypeName, page.Error);
            return;
        }

        foreach (var id in page.Ids)
            _region.Tell(new WakeItem(id));
        _after = page.Ids.Count < _settings.WakeLimit ? null : page.Ids[^1];
        if (page.Ids.Count > 0)
            _log.Debug("Refresh set {0}: woke {1} items", _settings.TypeName, page.Ids.Count);
    }

    private sealed record Page(IReadOnlyList<string> Ids, string? Error);

    private sealed class Wake
    {
        public static readonly Wake Instance = new();

        private Wake()
        {
        }
    }
}
