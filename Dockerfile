# A container image with killchain on its PATH, for the cluster recipes in deploy/ (the
# Kubernetes Job names killchain:0.1.0):
#
#   docker build -t killchain:0.1.0 .
#   docker run --rm -v "$PWD:/work" killchain:0.1.0 run scenarios/ransomware-midsize.toml
#
# Two stages: the Rust toolchain builds the release binary from Cargo.lock; the runtime image
# holds only that binary on a slim Debian (a shell included, since the recipes run /bin/sh -c).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=trixie

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
RUN cargo install --locked --path . --root /opt/killchain

FROM debian:${DEBIAN_RELEASE}-slim
COPY --from=build /opt/killchain/bin/killchain /usr/local/bin/killchain
# An unprivileged user; the Kubernetes recipe runs its pods as this uid and group.
RUN groupadd --gid 10001 killchain \
    && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin killchain
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["killchain"]
CMD ["--help"]
