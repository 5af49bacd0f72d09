import { useState, type FormEvent } from "react";
import { useQuery } from "urql";
import { run } from "../api/client";
import { asError, type CodedError } from "../api/errors";
import type { CreateProjectMutation, CreateProjectMutationVariables, DeleteProjectMutation,
  DeleteProjectMutationVariables, ProjectsQuery, ProjectsQueryVariables, UpdateProjectMutation,
  UpdateProjectMutationVariables } from "../api/generated";
import { CREATE_PROJECT, DELETE_PROJECT, PROJECTS, UPDATE_PROJECT } from "../api/operations";
import { ErrorNote } from "../components/ErrorNote";
import { navigate } from "../lib/router";

const PAGE = 20;

function ProjectRow({ project, onChange }: { project: { id: string; name: string; description: string; updatedAt: string };
                                            onChange: (error: CodedError | null) => void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(project.name);

  async function rename() {
    const data = await run<UpdateProjectMutation, UpdateProjectMutationVariables>(UPDATE_PROJECT,
      { input: { id: project.id, name } });
    onChange(asError(data.updateProject));
    setEditing(false);
  }

  async function remove() {
    if (!window.confirm(`Delete “${project.name}” with its uploads and renders? This cannot be undone.`)) return;
    const data = await run<DeleteProjectMutation, DeleteProjectMutationVariables>(DELETE_PROJECT, { id: project.id });
    onChange(asError(data.deleteProject));
  }

  return (
    <li className="project">
      {editing ? (
        <form onSubmit={(e) => { e.preventDefault(); void rename(); }}>
          <label><span className="sr-only">New name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required autoFocus /></label>
          <button type="submit">Save</button>
          <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      ) : (
        <>
          <a href={`/projects/${project.id}`} onClick={(e) => { e.preventDefault(); navigate(`/projects/${project.id}`); }}>
            {project.name}</a>
          <span className="muted"> {project.description}</span>
          <button type="button" aria-label={`Rename ${project.name}`} onClick={() => setEditing(true)}>Rename</button>
          <button type="button" aria-label={`Delete ${project.name}`} onClick={() => { void remove(); }}>Delete</button>
        </>
      )}
    </li>
  );
}

export function ProjectsPage() {
  const [search, setSearch] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [{ data, fetching, error }, refetch] = useQuery<ProjectsQuery, ProjectsQueryVariables>({
    query: PROJECTS, variables: { first: PAGE, after, search: search || null } });
  const [problem, setProblem] = useState<CodedError | null>(null);

  async function create(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const name = String(new FormData(form).get("name") ?? "");
    const result = await run<CreateProjectMutation, CreateProjectMutationVariables>(CREATE_PROJECT,
      { input: { name, description: "" } });
    const err = asError(result.createProject);
    setProblem(err);
    if (!err && result.createProject.__typename === "ProjectPayload") {
      navigate(`/projects/${result.createProject.project.id}`);
    }
    form.reset();
  }

  const page = data?.projects;
  return (
    <section aria-labelledby="projects-title">
      <h1 id="projects-title">Projects</h1>
      <form className="row" onSubmit={(e) => { void create(e); }}>
        <label>New project <input name="name" required maxLength={200} placeholder="My recap" /></label>
        <button type="submit">Create</button>
      </form>
      <ErrorNote error={problem} />
      <label className="search">Search
        <input type="search" value={search} onChange={(e) => { setSearch(e.target.value); setCursors([null]); }} />
      </label>
      {error && <ErrorNote error={error.message} />}
      {fetching && !data && <p aria-busy="true">Loading…</p>}
      <ul className="projects">
        {page?.nodes.map((p) => (
          <ProjectRow key={p.id} project={p} onChange={(err) => {
            setProblem(err); refetch({ requestPolicy: "network-only" }); }} />))}
      </ul>
      {page && page.nodes.length === 0 && <p>No projects yet. Create one to upload a movie and a script.</p>}
      <div className="row">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <button type="button" disabled={!page?.pageInfo.hasNextPage}
                onClick={() => setCursors([...cursors, page?.pageInfo.endCursor ?? null])}>Next</button>
      </div>
    </section>
  );
}
