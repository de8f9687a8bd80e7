/// RESPCodec: a sans-I/O RESP2/RESP3 parser and encoder with hard limits.
