using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>A test resource that records the operations applied to it, in order.</summary>
public sealed record Tape(ImmutableArray<string> Entries)
{
    public static readonly Tape Empty = new(ImmutableArray<string>.Empty);
}

/// <summary>Appends an entry; the result is the tape's length after it.</summary>
public sealed record Append(string Entry) : IBatchOperation<TapeLength>;

/// <summary>Always rejected by the handler.</summary>
public sealed record Refuse(string Reason) : IBatchOperation<TapeLength>;

/// <summary>Reads the tape.</summary>
public sealed record ReadTape : IBatchOperation<TapeLength>;

public sealed record TapeLength(int Length);

public sealed class TapeHandler : OperationHandler<Tape>
{
    public static readonly TapeHandler Instance = new();

    public override OperationOutcome<Tape> Apply(string key, Tape tape, IBatchOperation operation) => operation switch
    {
        Append append => Changed(tape with { Entries = tape.Entries.Add(append.Entry) }, new TapeLength(tape.Entries.Length + 1)),
        Refuse refuse => Reject(refuse.Reason),
        ReadTape => Unchanged(new TapeLength(tape.Entries.Length)),
        _ => Reject("unknown", ErrorCode.InvalidArgument),
    };
}

/// <summary>
/// An in-memory tape store that counts loads and saves per key, can fail the next loads or saves, can hold loads or saves
/// at a gate until it is opened, and reports how many calls for one key ever overlapped.
/// </summary>
public sealed class TapeStore : IResourceStore<Tape>
{
    private readonly ConcurrentDictionary<string, Tape> _rows = new();
    private readonly ConcurrentDictionary<string, int> _loads = new();
    private readonly ConcurrentDictionary<string, int> _saves = new();
    private readonly ConcurrentDictionary<string, int> _active = new();
    private int _failLoads;
    private int _failSaves;
    private int _maxOverlap;
    private volatile TaskCompletionSource? _loadGate;
    private volatile TaskCompletionSource? _saveGate;

    /// <summary>Completed (with the key) when a load or save is called while a gate is closed.</summary>
    public ConcurrentQueue<string> GatedCalls { get; } = new();

    public int Loads(string key) => _loads.GetValueOrDefault(key);

    public int Saves(string key) => _saves.GetValueOrDefault(key);

    public int MaxOverlap => Volatile.Read(ref _maxOverlap);

    public Tape Stored(string key) => _rows.GetValueOrDefault(key, Tape.Empty);

    /// <summary>The stored entries of <paramref name="key"/> (an array: <c>ImmutableArray</c> equality is by reference).</summary>
    public string[] Entries(string key) => Stored(key).Entries.ToArray();

    public void FailNextLoads(int n) => Volatile.Write(ref _failLoads, n);

    public void FailNextSaves(int n) => Volatile.Write(ref _failSaves, n);

    /// <summary>Loads wait until <see cref="OpenGates"/> (or their cancellation).</summary>
    public void CloseLoadGate() => _loadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Saves wait until <see cref="OpenGates"/> (or their cancellation).</summary>
    public void CloseSaveGate() => _saveGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void OpenGates()
    {
        _loadGate?.TrySetResult();
        _saveGate?.TrySetResult();
        _loadGate = null;
        _saveGate = null;
    }

    /// <summary>Saves ignore their cancellation token (a store that commits after max-duration all the same).</summary>
    public bool IgnoreSaveCancellation { get; set; }

    /// <summary>Only loads of <paramref name="key"/> wait at the load gate.</summary>
    public string? GateOnlyKey { get; set; }

    public Task InitializeAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task<Tape> LoadAsync(string key, CancellationToken cancellationToken)
    {
        _loads.AddOrUpdate(key, 1, (_, n) => n + 1);
        using var _ = Enter(key);
        await PassAsync(_loadGate, key, cancellationToken);
        if (Interlocked.Decrement(ref _failLoads) >= 0)
            throw new InvalidOperationException("injected load failure");
        return _rows.GetValueOrDefault(key, Tape.Empty);
    }

    public async Task<Tape> SaveAsync(string key, Tape resource, CancellationToken cancellationToken)
    {
        _saves.AddOrUpdate(key, 1, (_, n) => n + 1);
        using var _ = Enter(key);
        var token = IgnoreSaveCancellation ? CancellationToken.None : cancellationToken;
        await PassAsync(_saveGate, key, token);
        if (Interlocked.Decrement(ref _failSaves) >= 0)
            throw new InvalidOperationException("injected save failure");
        token.ThrowIfCancellationRequested();
        _rows[key] = resource;
        return resource;
    }

    private async Task PassAsync(TaskCompletionSource? gate, string key, CancellationToken cancellationToken)
    {
        if (gate is null || (GateOnlyKey is not null && GateOnlyKey != key))
            return;
        GatedCalls.Enqueue(key);
        await gate.Task.WaitAsync(cancellationToken);
    }

    private Exit Enter(string key)
    {
        var now = _active.AddOrUpdate(key, 1, (_, n) => n + 1);
        int max;
        while (now > (max = Volatile.Read(ref _maxOverlap)) && Interlocked.CompareExchange(ref _maxOverlap, now, max) != max)
        {
        }

        return new Exit(_active, key);
    }

    private readonly struct Exit(ConcurrentDictionary<string, int> active, string key) : IDisposable
    {
        public void Dispose() => active.AddOrUpdate(key, 0, (_, n) => n - 1);
    }
}
