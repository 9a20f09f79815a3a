# syntax=docker/dockerfile:1
# One image for every role of token-injector: `injector sidecar` (default), `injector webhook`, `injector token`.
#   docker build -t token-injector .                                  # the injector (last stage, the default target)
#   docker build --target sample-workload -t sample-workload .        # the sample gRPC service/client
# The injector is NativeAOT on the chiseled runtime-deps image: `injector`, and `injector-webhook` which
# `injector webhook` execs (scripts/publish says why there are two). The sample is framework-dependent on the
# chiseled ASP.NET runtime. Both: no shell, no package manager, non-root.

# Ubuntu 24.04 like the runtime images, so the native binary links against the glibc it runs with.
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
# The NativeAOT linker: clang, and zlib for the runtime's compression support.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first, from the project files alone, so that a source change does not invalidate the package layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Injector/Injector.csproj src/Injector/
COPY src/SampleWorkload/SampleWorkload.csproj src/SampleWorkload/
RUN dotnet restore src/Injector/Injector.csproj -r linux-x64 \
 && dotnet restore src/SampleWorkload/SampleWorkload.csproj
COPY src/Injector/ src/Injector/
COPY src/SampleWorkload/ src/SampleWorkload/
COPY scripts/publish scripts/
RUN scripts/publish /out/injector --no-restore \
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

# The injector: default target. The executables alone (not their .dbg symbols): no .NET runtime needed.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled AS injector
WORKDIR /app
COPY --from=build /out/injector/injector /out/injector/injector-webhook ./
USER 65532:65532
# 9464: sidecar /metrics /healthz /readyz; 8443: webhook HTTPS.
EXPOSE 9464 8443
ENTRYPOINT ["/app/injector"]
CMD ["sidecar"]
