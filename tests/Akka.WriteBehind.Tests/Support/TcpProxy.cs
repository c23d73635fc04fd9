using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// Failure injection for a real server: forwards connections from a local port to <c>127.0.0.1:target</c>; <see cref="Cut"/>
/// closes the listener and every forwarded connection (clients see refused and reset connections), <see cref="Restore"/>
/// listens on the same port again.
/// </summary>
internal sealed class TcpProxy : IDisposable
{
    private readonly int _target;
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private TcpListener? _listener;
    private CancellationTokenSource _cut = new();

    public TcpProxy(int target)
    {
        _target = target;
        Restore(port: 0);
        Port = ((IPEndPoint)_listener!.LocalEndpoint).Port;
    }

    public int Port { get; }

    /// <summary>Stops listening and resets every forwarded connection.</summary>
    public void Cut()
    {
        _cut.Cancel();
        _listener?.Stop();
        _listener = null;
        foreach (var socket in _sockets.Keys)
        {
            _sockets.TryRemove(socket, out _);
            try
            {
                socket.LingerState = new LingerOption(true, 0); // RST, not a polite FIN
                socket.Close();
            }
            catch (ObjectDisposedException)
            {
                // closed by its pump
            }
        }
    }

    /// <summary>Listens on <see cref="Port"/> again.</summary>
    public void Restore() => Restore(Port);

    public void Dispose() => Cut();

    private void Restore(int port)
    {
        _cut = new CancellationTokenSource();
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        var cut = _cut.Token;
        _ = Task.Run(() => AcceptLoopAsync(listener, cut));
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken cut)
    {
        while (!cut.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(cut);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target, cut);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                client.Close();
                server.Close();
                continue;
            }

            _sockets.TryAdd(client, 0);
            _sockets.TryAdd(server, 0);
            _ = PumpAsync(client, server, cut);
            _ = PumpAsync(server, client, cut);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, CancellationToken cut)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, cut);
                if (read == 0)
                    break;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cut);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // cut, or one side went away
        }
    }
}
