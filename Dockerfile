# Akka.WriteBehind Host: one cluster node. Build from the repository root:
#   docker build -t akka-writebehind .
# Run one node (SQLite in the /data volume, HTTP on port 5080, an API key required beyond loopback):
#   docker run -e WRITEBEHIND_API_KEY="$(openssl rand -hex 32)" -p 127.0.0.1:5080:5080 -v wb-data:/data akka-writebehind
# Several nodes: deploy/compose.yaml, deploy/k8s/ and docs/deployment.md.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# restore first, from the project files only, so a source change does not re-download the packages
COPY Directory.Build.props Directory.Packages.props ./
COPY src/Actors/Akka.WriteBehind.csproj src/Actors/
COPY src/Host/Akka.WriteBehind.Host.csproj src/Host/
COPY samples/Akka.WriteBehind.Samples/Akka.WriteBehind.Samples.csproj samples/Akka.WriteBehind.Samples/
RUN dotnet restore src/Host/Akka.WriteBehind.Host.csproj
COPY hocon/ hocon/
COPY src/ src/
COPY samples/ samples/
RUN dotnet publish src/Host/Akka.WriteBehind.Host.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# the image's non-root user (uid 1654) owns the data directory: the SQLite files of --store sqlite
RUN mkdir -p /data && chown app:app /data
USER app
VOLUME /data
# HTTP on every interface of the container (so an API key, or --allow-anonymous, is required); Akka.Remote stays on
# 127.0.0.1 until a deployment sets WRITEBEHIND_HOSTNAME and WRITEBEHIND_PUBLIC_HOSTNAME (compose.yaml, k8s/)
ENV WRITEBEHIND_DATA_DIR=/data \
    WRITEBEHIND_HTTP_ADDRESS=0.0.0.0 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
# HTTP API, Akka.Remote, cluster bootstrap (management)
EXPOSE 5080 4053 8558
ENTRYPOINT ["dotnet", "Akka.WriteBehind.Host.dll"]
