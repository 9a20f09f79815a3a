"""Calls the sample Echo service through token-injector with Python grpcio (Debian's), with no generated stubs: the
messages are encoded by hand (EchoRequest/StreamRequest field 1 = message, StreamRequest field 2 = count; EchoReply
field 1 = message, field 3 = caller; EchoSummary field 1 = count, field 3 = caller; caller field 1 = email, field 2 =
audience), which is enough to prove a second gRPC stack works through the proxy.

usage: python_echo_client.py TARGET MESSAGE [all]
  TARGET is what grpc.insecure_channel takes (127.0.0.1:PORT for a route, HOST:80 with grpc_proxy set for the egress
  port). Prints the Unary reply; with "all", also the server-streaming, client-streaming and bidi results."""
import sys

import grpc

SERVICE = "/tokeninjector.sample.v1.Echo/"
COUNT = 20


def varint(value):
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def encode_string(field, text):
    data = text.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def encode_int(field, value):
    return varint(field << 3) + varint(value)


def read_varint(buffer, i):
    value, shift = 0, 0
    while True:
        b = buffer[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def fields(buffer):
    i = 0
    while i < len(buffer):
        key, i = read_varint(buffer, i)
        field, wire = key >> 3, key & 7
        if wire == 2:
            length, i = read_varint(buffer, i)
            yield field, buffer[i:i + length]
            i += length
        elif wire == 0:
            value, i = read_varint(buffer, i)
            yield field, value
        else:
            raise ValueError("unexpected wire type %d" % wire)


def caller(message):
    return dict(fields(dict(fields(message)).get(3, b"")))


def main():
    target, message = sys.argv[1], sys.argv[2]
    every_kind = sys.argv[3:] == ["all"]
    with grpc.insecure_channel(target) as channel:
        reply = channel.unary_unary(SERVICE + "Unary")(encode_string(1, message), timeout=20)
        print("message=%s" % dict(fields(reply)).get(1, b"").decode())
        print("caller=%s" % caller(reply).get(1, b"").decode())
        print("audience=%s" % caller(reply).get(2, b"").decode())
        if not every_kind:
            return

        stream = channel.unary_stream(SERVICE + "ServerStream")(encode_string(1, message) + encode_int(2, COUNT), timeout=20)
        replies = list(stream)
        print("server-stream=%d audience=%s" % (len(replies), caller(replies[-1]).get(2, b"").decode()))

        summary = channel.stream_unary(SERVICE + "ClientStream")(iter([encode_string(1, message)] * COUNT), timeout=20)
        print("client-stream=%d audience=%s" % (dict(fields(summary)).get(1, 0), caller(summary).get(2, b"").decode()))

        echoes = list(channel.stream_stream(SERVICE + "Bidi")(iter([encode_string(1, message)] * COUNT), timeout=20))
        print("bidi=%d audience=%s" % (len(echoes), caller(echoes[-1]).get(2, b"").decode()))


if __name__ == "__main__":
    main()
