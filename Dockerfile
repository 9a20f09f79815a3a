# syntax=docker/dockerfile:1
# One image for every role of token-injector: `injector sidecar` (default), `injector webhook`, `injector token`.
#   docker build -t token-injector .                                  # the injector (last stage, the default target)
#   docker build --target sample-workload -t sample-workload .        # the sample gRPC service/client
# Framework-dependent publish on the chiseled ASP.NET runtime: no shell, no package manager, non-root.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so that a source change does not invalidate the package layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Injector/Injector.csproj src/Injector/
COPY src/SampleWorkload/SampleWorkload.csproj src/SampleWorkload/
RUN dotnet restore src/Injector/Injector.csproj \
 && dotnet restore src/SampleWorkload/SampleWorkload.csproj
COPY src/Injector/ src/Injector/
COPY src/SampleWorkload/ src/SampleWorkload/
RUN dotnet publish src/Injector/Injector.csproj -c Release --no-restore -o /out/injector \
 && dotnet publish src/SampleWorkload/SampleWorkload.csproj -c Release --no-restore -o /out/sample-workload

# The sample echo service for Cloud Run (listens on $PORT with h2c); `client` runs the sample caller instead.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS sample-workload
WORKDIR /app
COPY --from=build /out/sample-workload/ ./
USER 65532:65532
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/app/sample-workload"]
CMD ["server"]

# The injector: default target.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS injector
WORKDIR /app
COPY --from=build /out/injector/ ./
USER 65532:65532
# 9464: sidecar /metrics /healthz /readyz; 8443: webhook HTTPS.
EXPOSE 9464 8443
ENTRYPOINT ["/app/injector"]
CMD ["sidecar"]
