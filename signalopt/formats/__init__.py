"""Plan file formats: signalopt's JSON plan file, SUMO programmes, and the controller formats (NEMA dual
ring, NTCIP 1202 timing sheets, Synchro UTDF). Pure readers and writers; :mod:`signalopt.export` validates
before it writes any of them."""
