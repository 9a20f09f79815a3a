using System.Globalization;
using TokenInjector.DevStack.Files;

namespace TokenInjector.Bench.Running;

/// <summary>
/// The reference proxies, configured to do the sidecar's job as cheaply as they can: accept h2c on loopback, forward
/// over TLS (verified against the test CA, SNI and name check on the service host) with HTTP/2, and add a static
/// <c>authorization: Bearer</c> header. One worker / thread each, as the sidecar gets one core. Keep-alive limits are
/// lifted on both sides (nginx closes a connection after 1000 requests by default), so no run pays for reconnecting.
/// The files hold a token: they are written for the owner only, in the run's work directory, removed with it.
/// </summary>
internal sealed record ProxyConfigs(string Directory, string ServiceHost, int UpstreamPort, string CaFile, string Token)
{
    public string WriteNginx(int listenPort) => Write("nginx.conf", string.Create(CultureInfo.InvariantCulture, $$"""
        worker_processes 1;
        pid {{Directory}}/nginx.pid;
        error_log {{Directory}}/nginx-error.log warn;
        events { worker_connections 4096; }
        http {
            access_log off;
            upstream echo {
                server 127.0.0.1:{{UpstreamPort}};
                # grpc_pass runs one stream per upstream connection: keep enough of them for every concurrent RPC.
                keepalive 128;
                keepalive_requests 1000000000;
                keepalive_timeout 600s;
            }
            server {
                listen 127.0.0.1:{{listenPort}} http2;
                keepalive_requests 1000000000;
                keepalive_timeout 600s;
                location / {
                    grpc_pass grpcs://echo;
                    grpc_set_header Host {{ServiceHost}};
                    grpc_set_header Authorization "Bearer {{Token}}";
                    grpc_ssl_server_name on;
                    grpc_ssl_name {{ServiceHost}};
                    grpc_ssl_verify on;
                    grpc_ssl_trusted_certificate {{CaFile}};
                    grpc_ssl_session_reuse on;
                }
            }
        }
        """));

    public string WriteHaproxy(int listenPort) => Write("haproxy.cfg", string.Create(CultureInfo.InvariantCulture, $$"""
        global
            nbthread 1
            maxconn 4096
        defaults
            mode http
            timeout connect 5s
            timeout client 600s
            timeout server 600s
        frontend bench
            bind 127.0.0.1:{{listenPort}} proto h2
            default_backend echo
        backend echo
            http-reuse always
            # An absolute URI sets :scheme too: the upstream refuses an "http" scheme on its TLS port.
            http-request set-uri https://{{ServiceHost}}%[pathq]
            http-request set-header authorization "Bearer {{Token}}"
            server upstream 127.0.0.1:{{UpstreamPort}} ssl verify required ca-file {{CaFile}} verifyhost {{ServiceHost}} sni str({{ServiceHost}}) alpn h2

        """));

    private string Write(string name, string content)
    {
        return PrivateFile.Write(Path.Combine(Directory, name), content);
    }
}
