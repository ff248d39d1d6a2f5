/* Tally for check.h. */
#include "check.h"

int check_failures = 0;
int check_count = 0;

int check_report(const char *suite)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", suite, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}
