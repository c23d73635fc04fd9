using Akka.WriteBehind.Refresh;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>The ready HTTP syncer against a real local HTTP server.</summary>
public sealed class HttpItemSyncerSpec : IAsyncLifetime
{
    private FakeJobService _jobs = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public async Task InitializeAsync() => _jobs = await FakeJobService.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _jobs.DisposeAsync();
    }

    [Fact]
    public async Task Should_map_each_answer_to_its_sync_result()
    {
        _jobs.Set("same", "{\"status\":\"running\"}");
        _jobs.Set("changed", "{ \"status\" : \"running\",\n  \"progress\": 0.5 }");
        _jobs.Set("finished", "{\"status\":\"succeeded\",\"terminal\":true}");
        _jobs.Answer("gone", 410);
        _jobs.Answer("broken", 500, "boom");
        _jobs.Set("garbage", "not json");
        _jobs.Set("a b:c", "{\"escaped\":true}");
        var syncer = new HttpItemSyncer(_http, _jobs.Template);
        RefreshItem[] items =
        [
            new("same", "{\"status\":\"running\"}"), new("changed", "{\"status\":\"queued\"}"), new("finished", "{}"),
            new("unknown", "{}"), new("gone", "{}"), new("broken", "{}"), new("garbage", "{}"), new("a b:c", "{}"),
        ];

        var results = (await syncer.SyncAsync(items, CancellationToken.None)).ToDictionary(r => r.Id);

        Assert.IsType<SyncUnchanged>(results["same"]);
        var changed = Assert.IsType<SyncUpdated>(results["changed"]).Item;
        Assert.Equal("{\"status\":\"running\",\"progress\":0.5}", changed.State); // compacted
        Assert.False(changed.Terminal);
        var finished = Assert.IsType<SyncUpdated>(results["finished"]).Item;
        Assert.True(finished.Terminal);
        Assert.IsType<SyncDeleted>(results["unknown"]); // 404
        Assert.IsType<SyncDeleted>(results["gone"]);    // 410
        Assert.Contains("500", Assert.IsType<SyncFailed>(results["broken"]).Reason);
        Assert.Contains("not JSON", Assert.IsType<SyncFailed>(results["garbage"]).Reason);
        Assert.Equal("{\"escaped\":true}", Assert.IsType<SyncUpdated>(results["a b:c"]).Item.State);
        Assert.Equal(1, _jobs.Gets("a b:c"));
    }

    [Fact]
    public async Task Should_fail_an_item_whose_server_is_unreachable()
    {
        var syncer = new HttpItemSyncer(_http, "http://127.0.0.1:1/jobs/{id}");

        var result = Assert.Single(await syncer.SyncAsync([new RefreshItem("x", "{}")], CancellationToken.None));

        Assert.Contains("failed", Assert.IsType<SyncFailed>(result).Reason);
    }

    [Theory]
    [InlineData("http://127.0.0.1/jobs")]
    [InlineData("mailto:someone@{id}")]
    [InlineData("")]
    public void Should_refuse_a_template_that_is_not_an_http_url_with_an_id(string template) =>
        Assert.Throws<ArgumentException>(() => new HttpItemSyncer(_http, template));
}
