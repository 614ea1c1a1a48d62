"""The conformance kit as a plugin's test module uses it: one line makes a test per case."""

from kitprovider import KitProvider

from jackfield.testing import Conformance, conformance_tests

test_kit_conformance = conformance_tests(Conformance(KitProvider()))
test_kit_breaking_tools = conformance_tests(Conformance(KitProvider("tools")),
                                            select=("capability/image_input", "stream/agree"))
