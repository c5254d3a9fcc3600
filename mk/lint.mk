# mk/lint.mk - `make lint` (docs/coding-style.md §8): cppcheck and clang-tidy on our C, shellcheck on our
# scripts. Not part of CI: a finding is something to read, not a gate.

LINT_C = $(sort $(wildcard cmd/*.c lib/*/*.c tests/fuzz/*.c tests/static/*.c tests/fault/*.c))
# bench/ holds python and C as well: its shell scripts are the ones with a sh or bash shebang
LINT_SH = $(sort $(wildcard mk/*.sh mk/third-party/*.sh .ci/run tests/e2e/*.sh demo/*.sh) \
	$(shell grep -lE '^#!/bin/(ba)?sh' bench/*) tools/mkdisk)
# Off: X-macros need bare arguments (macro-parentheses); clang-tidy 14 does not model
# __attribute__((cleanup)) (unix.Malloc) nor fortified va_list use (valist.Uninitialized).
lint_empty :=
lint_space := $(lint_empty) $(lint_empty)
lint_comma := ,
CLANG_TIDY_CHECKS := $(subst $(lint_space),$(lint_comma),$(strip -* clang-analyzer-* bugprone-* \
	-bugprone-easily-swappable-parameters -bugprone-reserved-identifier \
	-bugprone-assignment-in-if-condition -bugprone-macro-parentheses \
	-clang-analyzer-unix.Malloc -clang-analyzer-valist.Uninitialized \
	-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling \
	cert-err34-c misc-redundant-expression performance-*))

.PHONY: lint lint-cppcheck lint-tidy lint-shell
lint: lint-cppcheck lint-tidy lint-shell

# cppcheck does not model __attribute__((cleanup)), so every _cleanup_ local looks leaked.
# It reads no system header, so: jansson's json_*_foreach macros are unknown to it, the
# protobuf-c version check in the generated header fires, and it cannot parse a compound
# literal that holds TAKE_PTR (a statement expression).
lint-cppcheck: $(B)/gen/version.h
	cppcheck --quiet --std=c11 --enable=warning,performance,portability --inline-suppr \
		--error-exitcode=1 -D_GNU_SOURCE -D__GNUC__ -Iinclude -I$(B)/gen -Icmd \
		--suppress=missingIncludeSystem --suppress=unmatchedSuppression \
		--suppress=memleak --suppress=resourceLeak --suppress=unknownMacro \
		--suppress='preprocessorErrorDirective:$(B)/gen/*' --suppress=internalAstError \
		$(LINT_C)

lint-tidy: $(B)/gen/version.h
	clang-tidy --quiet --checks='$(CLANG_TIDY_CHECKS)' --warnings-as-errors='*' $(LINT_C) -- \
		$(filter-out -fstack-protector-strong -Werror -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) -Icmd -Itests/unit

# tests/e2e/lib.sh is sourced, so it has no shebang to tell its shell
lint-shell:
	shellcheck -S warning -x $(filter-out tests/e2e/lib.sh,$(LINT_SH))
	shellcheck -S warning -s bash tests/e2e/lib.sh
