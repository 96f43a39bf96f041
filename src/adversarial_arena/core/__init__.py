"""Pure domain: types, errors and the Protocols that the I/O layers implement."""
