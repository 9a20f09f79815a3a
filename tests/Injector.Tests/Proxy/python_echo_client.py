"""Calls the sample Echo service's Unary method through a token-injector route with Python grpcio, with no
generated stubs: the request and reply are encoded by hand (field 1 = message, field 3 = caller, caller field 1 =
email), which is enough to prove a second gRPC stack works through the proxy."""
import sys

import grpc


def encode_string(field, text):
    data = text.encode()
    return bytes([field << 3 | 2, len(data)]) + data


def fields(buffer):
    i = 0
    while i < len(buffer):
        key = buffer[i]
        i += 1
        field, wire = key >> 3, key & 7
        if wire == 2:
            length, shift = 0, 0
            while True:
                b = buffer[i]
                i += 1
                length |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            yield field, buffer[i:i + length]
            i += length
        elif wire == 0:
            while buffer[i] >= 0x80:
                i += 1
            i += 1
        else:
            raise ValueError("unexpected wire type %d" % wire)


def main():
    target, message = sys.argv[1], sys.argv[2]
    with grpc.insecure_channel(target) as channel:
        unary = channel.unary_unary("/tokeninjector.sample.v1.Echo/Unary")
        reply = dict(fields(unary(encode_string(1, message), timeout=20)))
    caller = dict(fields(reply.get(3, b"")))
    print("message=%s" % reply.get(1, b"").decode())
    print("caller=%s" % caller.get(1, b"").decode())


if __name__ == "__main__":
    main()
