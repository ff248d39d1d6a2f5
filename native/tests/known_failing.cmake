# Native tests that fail for a reason written down in native/tests/simt/FINDINGS.md
# ("Quantized parity"), on the SIMT harness and (as far as the diagnosis goes)
# on a GPU alike. ctest hands the list to the test binary as
# KEYMATE_TEST_KNOWN_FAILING: they still run, a failure prints XFAIL, and a
# pass fails the run (XPASS), so the list cannot outlive its defect.
set(KEYMATE_KNOWN_FAILING
    gpu_model.greedy_tokens_match_the_cpu_q8_0 gpu_model.greedy_tokens_match_the_cpu_q4_0
    gpu_model.logits_of_every_position_match_the_cpu_q8_0 gpu_model.logits_of_every_position_match_the_cpu_q4_0)
string(REPLACE ";" "," KEYMATE_KNOWN_FAILING_CSV "${KEYMATE_KNOWN_FAILING}")
