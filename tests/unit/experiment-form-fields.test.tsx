// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DescriptionField,
  type ExperimentDesign,
  ExperimentDesignSelects,
  TextareaField,
} from "@/features/experiments/components/experiment-form-fields";

const DESIGN: ExperimentDesign = {
  scope: "visitor",
  assignmentType: "deterministic",
  hashing: "growthbook-v2",
};
// The edit form's ids: e2e specs and label lookups rely on them staying as they are.
const EDIT_IDS = { scope: "edit-scope", assignmentType: "edit-assignment", hashing: "edit-hashing" };

afterEach(cleanup);

describe("ExperimentDesignSelects", () => {
  it("labels each select and gives it the caller's id", () => {
    render(<ExperimentDesignSelects ids={EDIT_IDS} design={DESIGN} onChange={() => {}} />);
    expect(screen.getByLabelText("Who is assigned").id).toBe("edit-scope");
    expect(screen.getByLabelText("Assignment").id).toBe("edit-assignment");
    expect(screen.getByLabelText("Hashing").id).toBe("edit-hashing");
  });

  it("offers every value of the config's enums, in the form's order, with the explaining labels", () => {
    render(<ExperimentDesignSelects ids={EDIT_IDS} design={DESIGN} onChange={() => {}} />);
    const options = (label: string) =>
      [...(screen.getByLabelText(label) as HTMLSelectElement).options].map((option) => [
        option.value,
        option.textContent,
      ]);
    expect(options("Who is assigned")).toEqual([
      ["visitor", "Visitors (anonymous cookie)"],
      ["user", "Users (signed in)"],
      ["team", "Teams (every member sees the same)"],
    ]);
    expect(options("Assignment")).toEqual([
      ["deterministic", "Deterministic (hash of the id)"],
      ["random", "Random (stored at first sight)"],
    ]);
    expect(options("Hashing")).toEqual([
      ["growthbook-v2", "GrowthBook v2 (default)"],
      ["posthog", "PostHog-compatible (same as a PostHog flag with this key)"],
    ]);
  });

  it("reports the whole design with only the changed field replaced", () => {
    const onChange = vi.fn();
    render(<ExperimentDesignSelects ids={EDIT_IDS} design={DESIGN} onChange={onChange} />);
    fireEvent.change(screen.getByLabelText("Hashing"), { target: { value: "posthog" } });
    expect(onChange).toHaveBeenCalledWith({ ...DESIGN, hashing: "posthog" });
  });
});

describe("text areas", () => {
  it("labels the description and reports its text", () => {
    const onChange = vi.fn();
    render(<DescriptionField id="description" value="" onChange={onChange} />);
    const field = screen.getByLabelText("Description") as HTMLTextAreaElement;
    expect([field.id, field.getAttribute("rows")]).toEqual(["description", "2"]);
    fireEvent.change(field, { target: { value: "Checkout button copy" } });
    expect(onChange).toHaveBeenCalledWith("Checkout button copy");
  });

  it("shows a hint only when given one", () => {
    const { container } = render(
      <TextareaField
        id="teamIds"
        label="Only these teams"
        rows={3}
        value=""
        onChange={() => {}}
        hint="One per line."
      />,
    );
    expect(container.querySelector(".hint")?.textContent).toBe("One per line.");
    cleanup();
    const bare = render(<TextareaField id="ids" label="Ids" rows={2} value="" onChange={() => {}} />);
    expect(bare.container.querySelector(".hint")).toBeNull();
  });
});
