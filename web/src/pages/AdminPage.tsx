// Migration and read mode, for accounts with the `admin` custom claim. Every callable's
// refusal (permission-denied, invalid-argument naming the field, failed-precondition while
// another run holds the lease…) is shown as it comes.
import type { Backend } from "../backend";
import { MigrationPanel } from "./admin/MigrationPanel";
import { ReadModePanel } from "./admin/ReadModePanel";

export function AdminPage({ backend, isAdmin }: { backend: Backend; isAdmin: boolean }) {
  if (!isAdmin)
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          Administration
        </h1>
        <p role="alert">
          This page is for administrators: your account has no <code>admin</code> claim.
        </p>
      </section>
    );
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Administration
      </h1>
      <MigrationPanel backend={backend} />
      <ReadModePanel backend={backend} />
    </section>
  );
}
