/// HTTP1Codec: a sans-I/O, strict HTTP/1.1 (RFC 9112) parser and serializer.
