document.getElementById("root")!.textContent = "Orrery";
