"""The conformance kit of jackfield.testing against this plugin's emulator: one test per case
(CONTRIBUTING.md section 8, "The conformance kit")."""

import jackfield_echoapi
from jackfield.testing import Conformance, conformance_tests

test_echoapi_conformance = conformance_tests(Conformance(jackfield_echoapi))
