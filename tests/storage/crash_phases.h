/*
 * crash_phases.h: the crash test's sweep over every phase of every change
 * (crash_phases.c), run by test_crash.
 */
#ifndef CARDINAL_TEST_CRASH_PHASES_H
#define CARDINAL_TEST_CRASH_PHASES_H

void test_crash_phases(void **state);

#endif
