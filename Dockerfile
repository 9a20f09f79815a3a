# syntax=docker/dockerfile:1
# One image for every role of token-injector: `injector sidecar` (default), `injector webhook`, `injector token`; for
# linux/amd64 and linux/arm64 (buildx builds both; plain `docker build` builds the machine's own):
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/injector:TAG --push .
#   docker buildx build --platform linux/amd64,linux/arm64 --target sample-workload -t REGISTRY/sample-workload:TAG --push .
# The injector is NativeAOT on the chiseled runtime-deps image: `injector`, and `injector-webhook` which
# `injector webhook` execs (scripts/publish says why there are two). The sample is framework-dependent on the
# chiseled ASP.NET runtime. Both: no shell, no package manager, non-root.
# The build stage runs on the builder's own platform and cross-compiles for each target platform; the runtime stages
# only copy files, so no stage runs the target's code and the build needs no emulator.

# Ubuntu 24.04 like the runtime images, so the native binary links against the glibc it runs with.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG TARGETARCH
# The target's .NET runtime identifier: Docker's amd64 is .NET's x64 (this expansion needs Dockerfile syntax 1.7+).
ENV RID=linux-${TARGETARCH/amd64/x64}
WORKDIR /src
# The NativeAOT linker for the target (clang, plus Ubuntu's cross toolchain when the target is another machine), in
# a layer of its own so that a source change does not fetch it again.
COPY scripts/lib/aot-toolchain scripts/lib/apt-install.sh scripts/lib/
RUN scripts/lib/aot-toolchain "$RID" >/dev/null \
 && rm -rf /var/lib/apt/lists/*
# Restore first, from the project files alone, so that a source change does not invalidate the package layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Injector/Injector.csproj src/Injector/
COPY src/SampleWorkload/SampleWorkload.csproj src/SampleWorkload/
COPY src/DevCommandLine/DevCommandLine.csproj src/DevCommandLine/
RUN dotnet restore src/Injector/Injector.csproj -r "$RID" \
 && dotnet restore src/SampleWorkload/SampleWorkload.csproj -r "$RID"
COPY src/Injector/ src/Injector/
COPY src/SampleWorkload/ src/SampleWorkload/
COPY src/DevCommandLine/ src/DevCommandLine/
COPY scripts/publish scripts/
# The sample for the target too: framework-dependent (a runtime identifier no longer implies self-contained), but
# its apphost, /app/sample-workload, is native code.
RUN scripts/publish /out/injector "$RID" --no-restore \
 && dotnet publish src/SampleWorkload/SampleWorkload.csproj -c Release -r "$RID" --no-restore -o /out/sample-workload

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
# Owned by the user they run as, read-only and executable for all: the kernel lets a process hand back the clean pages
# it maps from a file (madvise MADV_PAGEOUT, how the sidecar drops start-up's code once it is ready) only when that
# process owns the file or may write it; owned by root they would stay resident (docs/MEMORY.md).
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled AS injector
WORKDIR /app
COPY --from=build --chown=65532:65532 --chmod=555 /out/injector/injector /out/injector/injector-webhook ./
USER 65532:65532
# 9464: sidecar /metrics /healthz /readyz; 10250: webhook HTTPS (the chart's webhook.port).
EXPOSE 9464 10250
ENTRYPOINT ["/app/injector"]
CMD ["sidecar"]
