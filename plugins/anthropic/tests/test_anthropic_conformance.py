"""The conformance kit of jackfield.testing against this plugin's emulator: one test per case
(CONTRIBUTING.md section 8, "The conformance kit"): faults, streams, cancellation,
capabilities and secrets."""

import jackfield_anthropic
from jackfield.testing import Conformance, conformance_tests

test_anthropic_conformance = conformance_tests(Conformance(jackfield_anthropic))
