// SPDX-License-Identifier: GPL-2.0
/// No function of pflash returns with a lock held that it took, but the
/// lock functions, whose names say so (pflash_dev_lock_live(),
/// pflash_nl_lock_dev()): every path from a lock to the function's end
/// passes its unlock.  A conditional lock is followed only in the forms
///   E = lock(...); if (E) S      and      if (lock(...)) S
/// (for pflash_nl_lock_dev(): E = pflash_nl_lock_dev(...); if (IS_ERR(E)) S),
/// where the branch S is the failure, which holds nothing; any other form
/// is reported, so that nothing escapes the check unseen.
///
/// See "Layers" in Documentation/pflash/internals.rst.
//
// Run by tools/check/layers.py: spatch -D report --sp-file locks.cocci

virtual report

@held exists@
identifier f !~ "_lock(_|$)";
expression L, D, E, F;
statement S;
position p;
@@
f(...) {
<+...
(
mutex_lock@p(L);
... when != mutex_unlock(L)
|
spin_lock@p(L);
... when != spin_unlock(L)
|
spin_lock_irq@p(L);
... when != spin_unlock_irq(L)
|
spin_lock_irqsave@p(L, F);
... when != spin_unlock_irqrestore(L, F)
|
xa_lock@p(L);
... when != xa_unlock(L)
|
E = mutex_lock_interruptible@p(L);
if (E) S
... when != mutex_unlock(L)
|
E = pflash_dev_lock_live@p(D, ...);
if (E) S
... when != mutex_unlock(&D->ctl_lock)
|
if (pflash_dev_lock_live@p(D, ...)) S
... when != mutex_unlock(&D->ctl_lock)
|
E = pflash_nl_lock_dev@p(...);
if (IS_ERR(E)) S
... when != pflash_nl_unlock_dev(E, ...)
)
...+>
}

// The forms of a conditional lock that the rule above follows.
@known@
expression L, D, E;
statement S;
position p;
@@
(
E = mutex_lock_interruptible@p(L);
if (E) S
|
E = pflash_dev_lock_live@p(D, ...);
if (E) S
|
if (pflash_dev_lock_live@p(D, ...)) S
|
E = pflash_nl_lock_dev@p(...);
if (IS_ERR(E)) S
)

@unknown@
identifier f !~ "_lock(_|$)";
position p != known.p;
@@
f(...) {
<+...
(
mutex_lock_interruptible@p(...)
|
pflash_dev_lock_live@p(...)
|
pflash_nl_lock_dev@p(...)
)
...+>
}

@script:python depends on report@
p << held.p;
f << held.f;
@@
coccilib.report.print_report(p[0], "%s() may return with the lock taken here still held" % f)

@script:python depends on report@
p << unknown.p;
f << unknown.f;
@@
coccilib.report.print_report(p[0], "%s() takes a lock in a form this check cannot follow: E = lock(...); if (E) S, or if (lock(...)) S" % f)
